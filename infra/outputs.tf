output "task_definition_arns" {
  description = "Task definition ARN of each service (application + logshipd log router)."
  value       = { for name, td in aws_ecs_task_definition.service : name => td.arn }
}

output "ecs_service_names" {
  description = "ECS service of each application."
  value       = { for name, svc in aws_ecs_service.service : name => svc.name }
}

output "logshipd_task_role_arn" {
  description = "Task role with logshipd's CloudWatch Logs permissions."
  value       = aws_iam_role.logshipd_task.arn
}

output "ecs_execution_role_arn" {
  description = "Task execution role (image pulls, awslogs, SSM parameters)."
  value       = aws_iam_role.ecs_execution.arn
}

output "log_group_prefix" {
  description = "Prefix of the log groups logshipd writes (<prefix>/<environment>/<service>)."
  value       = var.log_group_prefix
}

output "log_router_log_group" {
  description = "Log group of the log routers' own logs."
  value       = aws_cloudwatch_log_group.log_router.name
}

output "ssm_parameter_names" {
  description = "SSM parameters read by the log router (names only; the key is a SecureString)."
  value = {
    grafana_cloud_api_key   = aws_ssm_parameter.grafana_cloud_api_key.name
    logshipd_metrics_config = aws_ssm_parameter.logshipd_metrics_config.name
  }
}
