# Monitoring parameters in SSM Parameter Store, read by ECS when a task starts
# and handed to the log router as secrets (ecs.tf).

locals {
  ssm_prefix = "/${var.project}/${var.environment}"

  # logshipd's `metrics` section (docs/metrics.md), as JSON: the log router's
  # configuration (infra/logshipd-firelens.yaml) reads it from
  # LOGSHIPD_METRICS_CONFIG, so templates and the key allow-list change
  # without a new image or task definition revision (new tasks pick it up).
  logshipd_metrics_config = {
    listen                = "0.0.0.0:9464"
    endpoint_templates    = var.metrics_endpoint_templates
    api_key_ids           = var.metrics_api_key_ids
    max_series_per_metric = var.metrics_max_series_per_metric
  }
}

# The Grafana Cloud token, encrypted with the account's aws/ssm key. value_wo
# is write-only: Terraform sends it to SSM and keeps it out of state and plan.
resource "aws_ssm_parameter" "grafana_cloud_api_key" {
  name             = "${local.ssm_prefix}/grafana-cloud/api-key"
  description      = "Grafana Cloud access policy token (logs:write) of logshipd's Loki sink."
  type             = "SecureString"
  value_wo         = var.grafana_cloud_api_key
  value_wo_version = var.grafana_cloud_api_key_version
}

# Plain (non-secret) JSON configuration.
resource "aws_ssm_parameter" "logshipd_metrics_config" {
  name        = "${local.ssm_prefix}/logshipd/metrics-config"
  description = "logshipd metrics section (JSON): listen address, endpoint templates, API key allow-list, series cap."
  type        = "String"
  tier        = "Standard"
  data_type   = "text"
  value       = jsonencode(local.logshipd_metrics_config)
}
