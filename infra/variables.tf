variable "aws_region" {
  description = "AWS region of the ECS services, the SSM parameters and the log groups."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project label of every record, metric and resource (the monitoring guide's project)."
  type        = string
  default     = "starmates-ai-team"
}

variable "environment" {
  description = "Deployment environment: dev, staging or prod. dev and prod share Grafana Cloud and are separated by this label."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be dev, staging or prod."
  }
}

variable "log_group_prefix" {
  description = "CloudWatch Logs group prefix: logshipd writes to <prefix>/<environment>/<service> and its task role may touch nothing else."
  type        = string
  default     = "/ai-teams"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._#/-]*[A-Za-z0-9._#-]$", var.log_group_prefix)) && !startswith(var.log_group_prefix, "/aws/")
    error_message = "The prefix starts with /, does not end with /, uses only CloudWatch group name characters and is not under /aws/."
  }
}

variable "cloudwatch_retention_days" {
  description = "Retention logshipd sets on the log groups it creates (also its age check for records)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_retention_days)
    error_message = "The retention must be one of the values CloudWatch Logs accepts."
  }
}

variable "logshipd_image" {
  description = "logshipd image, pinned by digest: REPOSITORY:TAG@sha256:DIGEST (built from the repository's Dockerfile)."
  type        = string

  validation {
    condition     = can(regex("^[^@]+:[^@:/]+@sha256:[0-9a-f]{64}$", var.logshipd_image))
    error_message = "Pin the logshipd image by tag and digest (REPOSITORY:TAG@sha256:DIGEST)."
  }
}

variable "logshipd_memory_reservation" {
  description = "Soft memory limit (MiB) of the log router container. Its sink queues are bounded at 64 MiB each (the sinks share the batches) and its Go memory limit is 88 MiB (memory_limit: auto)."
  type        = number
  default     = 128
}

variable "services" {
  description = "The services logshipd serves. Each runs as an ECS service whose task holds the service container and logshipd as its FireLens log router."
  type = map(object({
    port          = number
    cpu           = number
    memory        = number
    desired_count = number
  }))
  default = {
    "api-gateway" = {
      port          = 8000
      cpu           = 512
      memory        = 1024
      desired_count = 2
    }
    "workflow-agent" = {
      port          = 8001
      cpu           = 512
      memory        = 1024
      desired_count = 2
    }
    "workflow-engine" = {
      port          = 8002
      cpu           = 512
      memory        = 1024
      desired_count = 2
    }
  }
}

variable "service_images" {
  description = "Container image of each service (same keys as var.services), pinned by digest."
  type        = map(string)
}

variable "ecs_cluster_arn" {
  description = "ARN of the ECS cluster the services run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks (awsvpc)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks. Allow no ingress on 24224 or 8877 (the log router is reached on the task's loopback only)."
  type        = list(string)
}

variable "metrics_endpoint_templates" {
  description = "Route templates for the endpoint label of the derived metrics (metrics.endpoint_templates)."
  type        = list(string)
  default     = ["/api/v1/sessions/{id}", "/api/v1/workflows/{id}"]
}

variable "metrics_api_key_ids" {
  description = "API key ids allowed as the api_key_id label (metrics.api_key_ids); others become \"unlisted\"."
  type        = list(string)
  default     = []
}

variable "metrics_max_series_per_metric" {
  description = "Series cap per derived metric (Grafana Cloud's free tier allows 10K series in all)."
  type        = number
  default     = 500
}

variable "grafana_cloud_loki_url" {
  description = "Grafana Cloud Logs base URL, e.g. https://logs-prod-012.grafana.net (no path)."
  type        = string
}

variable "grafana_cloud_loki_user" {
  description = "Grafana Cloud Logs instance id (basic auth user of logshipd's Loki sink)."
  type        = string
}

variable "grafana_cloud_api_key" {
  description = "Grafana Cloud access policy token with logs:write. Write-only: stored in SSM as a SecureString, never in the Terraform state."
  type        = string
  sensitive   = true
  ephemeral   = true
  nullable    = false
}

variable "grafana_cloud_api_key_version" {
  description = "Increase to write a new var.grafana_cloud_api_key to SSM (write-only arguments are not compared with the state)."
  type        = number
  default     = 1
}
