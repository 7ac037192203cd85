# Roles of the service tasks.
#
# Task role: what logshipd's CloudWatch sink calls (docs/sinks/cloudwatch.md,
# "Credentials and endpoint"): CreateLogGroup, PutRetentionPolicy (groups it
# creates, with retention_days), CreateLogStream and PutLogEvents, on the
# groups under var.log_group_prefix and their streams only. No
# DescribeLogStreams, no wildcard resource. The services' containers share the
# task role: give a service its own permissions in a role of its own.
#
# Execution role: what ECS itself needs to start the task: pull the images,
# write the log router's own logs (awslogs) and read the two SSM parameters.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # arn:aws:logs:REGION:ACCOUNT:log-group:/ai-teams/
  log_group_arn_prefix = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:${var.log_group_prefix}/"

  ecs_tasks_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:*" }
      }
    }]
  })
}

resource "aws_iam_role" "logshipd_task" {
  name               = "${var.project}-${var.environment}-logshipd-task"
  description        = "Task role of the services' tasks: logshipd's CloudWatch Logs sink."
  assume_role_policy = local.ecs_tasks_assume_role_policy
}

resource "aws_iam_role_policy" "logshipd_cloudwatch_logs" {
  name = "logshipd-cloudwatch-logs"
  role = aws_iam_role.logshipd_task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "LogshipdCloudWatchSink"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:PutRetentionPolicy",
      ]
      Resource = [
        "${local.log_group_arn_prefix}*",
        "${local.log_group_arn_prefix}*:log-stream:*",
      ]
    }]
  })
}

resource "aws_iam_role" "ecs_execution" {
  name               = "${var.project}-${var.environment}-ecs-execution"
  description        = "ECS task execution role: image pulls, the log router's awslogs, the SSM parameters."
  assume_role_policy = local.ecs_tasks_assume_role_policy
}

resource "aws_iam_role_policy_attachment" "ecs_execution" {
  role       = aws_iam_role.ecs_execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# SecureString parameters encrypted with the default aws/ssm key need no
# kms:Decrypt grant; add one for a customer managed key.
resource "aws_iam_role_policy" "ecs_execution_ssm" {
  name = "read-logshipd-parameters"
  role = aws_iam_role.ecs_execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "ReadLogshipdParameters"
      Effect = "Allow"
      Action = ["ssm:GetParameters"]
      Resource = [
        aws_ssm_parameter.grafana_cloud_api_key.arn,
        aws_ssm_parameter.logshipd_metrics_config.arn,
      ]
    }]
  })
}
