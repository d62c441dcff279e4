import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';

const topicsWithCloudWatch = new WeakSet<sns.ITopic>();

/**
 * Let CloudWatch alarms publish to a topic (and use its key, when the topic is encrypted); once per topic.
 * On an imported topic this is a no-op: its owner must allow cloudwatch.amazonaws.com.
 */
export function allowCloudWatchToPublish(topic: sns.ITopic): void {
  if (topicsWithCloudWatch.has(topic)) return;
  topicsWithCloudWatch.add(topic);
  topic.grantPublish(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
}
