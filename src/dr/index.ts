// Public API of the DR floor: the site construct. The wiring functions (dr-wiring, archive-replication,
// rds-replication, dynamodb-dr, external-db-dr) are internal plumbing the constructs import directly.
export { DrSecondarySite, DrSecondarySiteProps, DR_SITE_METADATA_TYPE } from './dr-secondary-site';
