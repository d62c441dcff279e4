#!/usr/bin/env bash
# Archive the latest version of the Pro/Dev/QA branches of a git repository as git bundles in a
# CODE S3ArchiveLifecycle (cdk-backup-dr). One bundle per branch, written to
#   s3://<bucket>/<prefix><repo>/<branch>/<repo>.bundle        (= S3ArchiveLifecycle.codeBundleKey)
# Versioning keeps the previous bundles; the archive's noncurrent-version rule bounds the history.
#
# The CI role needs only what S3ArchiveLifecycle.grantBundleUpload(role, repo) grants
# (s3:PutObject / s3:AbortMultipartUpload on those keys, kms:GenerateDataKey / kms:Decrypt via S3).
#
# Restore:  aws s3 cp s3://<bucket>/<prefix><repo>/<branch>/<repo>.bundle . \
#           && git clone --branch <branch> <repo>.bundle <repo>
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: push-git-bundles.sh --repo-name NAME [--bucket BUCKET] [options]

  --repo-name NAME     repository name used in the key (letters, digits, . _ -)
  --bucket BUCKET      archive bucket (required unless --no-upload)
  --prefix PREFIX      key prefix of the archive ("" or ending with "/"; default "")
  --branches "A B C"   branches to bundle (default "pro dev qa")
  --repo-dir DIR       git working copy or bare repository (default ".")
  --remote NAME        remote whose tracking branches are used when a local branch is missing
                       (default "origin")
  --out-dir DIR        where bundles are written, as <repo>/<branch>/<repo>.bundle
                       (default: a temporary directory, removed on exit)
  --no-upload          create and verify the bundles only
  -h, --help           this help

Environment: AWS_CLI (default "aws"), extra "aws s3 cp" arguments in AWS_S3_CP_ARGS
(e.g. "--expected-bucket-owner 111111111111").
Exit codes: 0 ok, 1 no branch could be bundled or a command failed, 2 usage error.
EOF
}

die_usage() { echo "push-git-bundles: $*" >&2; echo >&2; usage >&2; exit 2; }

BUCKET=""
REPO_NAME=""
PREFIX=""
BRANCHES="pro dev qa"
REPO_DIR="."
REMOTE="origin"
OUT_DIR=""
UPLOAD=1

while [ $# -gt 0 ]; do
  case "$1" in
    --bucket) BUCKET="${2:-}"; shift 2 ;;
    --repo-name) REPO_NAME="${2:-}"; shift 2 ;;
    --prefix) PREFIX="${2:-}"; shift 2 ;;
    --branches) BRANCHES="${2:-}"; shift 2 ;;
    --repo-dir) REPO_DIR="${2:-}"; shift 2 ;;
    --remote) REMOTE="${2:-}"; shift 2 ;;
    --out-dir) OUT_DIR="${2:-}"; shift 2 ;;
    --no-upload) UPLOAD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done

# Same naming rules as S3ArchiveLifecycle.codeBundleKey.
REPO_RE='^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'
BRANCH_RE='^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$'
[[ "$REPO_NAME" =~ $REPO_RE ]] || die_usage "--repo-name '$REPO_NAME' must be 1-100 letters, digits, '.', '_' or '-'"
if [ -n "$PREFIX" ]; then
  case "$PREFIX" in
    /*|*//*|*\**) die_usage "--prefix '$PREFIX' must not start with '/' or contain '//' or '*'" ;;
    */) ;;
    *) die_usage "--prefix '$PREFIX' must end with '/'" ;;
  esac
fi
[ "$UPLOAD" -eq 0 ] || [ -n "$BUCKET" ] || die_usage "--bucket is required (or pass --no-upload)"
[ -n "$BRANCHES" ] || die_usage "--branches is empty"
for b in $BRANCHES; do
  if ! [[ "$b" =~ $BRANCH_RE ]] || [[ "$b" == *..* || "$b" == *//* || "$b" == */ || "$b" == *.lock ]]; then
    die_usage "branch '$b' must be letters, digits, '.', '_', '-' and '/' (no '..', '//', trailing '/')"
  fi
done
git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1 || die_usage "--repo-dir '$REPO_DIR' is not a git repository"

TEMP_OUT=""
TEMP_REFS=()
cleanup() {
  for ref in "${TEMP_REFS[@]+"${TEMP_REFS[@]}"}"; do git -C "$REPO_DIR" update-ref -d "$ref" >/dev/null 2>&1 || true; done
  if [ -n "$TEMP_OUT" ]; then rm -rf "$TEMP_OUT"; fi
}
trap cleanup EXIT
if [ -z "$OUT_DIR" ]; then
  TEMP_OUT="$(mktemp -d)"
  OUT_DIR="$TEMP_OUT"
fi

bundled=0
for b in $BRANCHES; do
  if git -C "$REPO_DIR" show-ref --verify --quiet "refs/heads/$b"; then
    :
  elif git -C "$REPO_DIR" show-ref --verify --quiet "refs/remotes/$REMOTE/$b"; then
    # CI checkouts often only have remote-tracking branches: record the bundle under refs/heads/<branch>
    # (so `git clone --branch <branch> x.bundle` works) through a temporary ref removed on exit.
    git -C "$REPO_DIR" update-ref "refs/heads/$b" "refs/remotes/$REMOTE/$b"
    TEMP_REFS+=("refs/heads/$b")
  else
    echo "push-git-bundles: warning: branch '$b' not found (neither refs/heads/$b nor refs/remotes/$REMOTE/$b); skipped" >&2
    continue
  fi
  commit="$(git -C "$REPO_DIR" rev-parse "refs/heads/$b^{commit}")"
  dir="$OUT_DIR/$REPO_NAME/$b"
  file="$dir/$REPO_NAME.bundle"
  mkdir -p "$dir"
  git -C "$REPO_DIR" bundle create --quiet "$(cd "$dir" && pwd)/$REPO_NAME.bundle" "refs/heads/$b"
  if ! verify="$(git -C "$REPO_DIR" bundle verify "$(cd "$dir" && pwd)/$REPO_NAME.bundle" 2>&1)"; then
    echo "push-git-bundles: bundle of '$b' failed verification: $verify" >&2
    exit 1
  fi
  key="${PREFIX}${REPO_NAME}/${b}/${REPO_NAME}.bundle"
  echo "bundled $REPO_NAME@$b ($commit) -> $file"
  if [ "$UPLOAD" -eq 1 ]; then
    # shellcheck disable=SC2086 # AWS_S3_CP_ARGS is a list of extra arguments
    "${AWS_CLI:-aws}" s3 cp "$file" "s3://$BUCKET/$key" --only-show-errors \
      --metadata "git-branch=$b,git-commit=$commit" ${AWS_S3_CP_ARGS:-}
    echo "uploaded s3://$BUCKET/$key"
  fi
  bundled=$((bundled + 1))
done

if [ "$bundled" -eq 0 ]; then
  echo "push-git-bundles: no branch of '$BRANCHES' exists in $REPO_DIR; nothing archived" >&2
  exit 1
fi
