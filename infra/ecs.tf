# One ECS service per application (api-gateway, workflow-agent,
# workflow-engine). A FireLens log router serves the containers of its own
# task only, so each task holds the application container and logshipd as its
# log router:
#   - log_router: logshipd (firelensConfiguration), essential, health-checked
#     with `logshipd health` (exec form: the image has no shell), its own logs
#     to CloudWatch through awslogs, its settings from the environment and its
#     metrics section and Grafana Cloud key from SSM (secrets);
#   - the application: logDriver awsfirelens (Docker's fluentd driver writing
#     to the router's /var/run/fluent.sock), started once the router is
#     healthy.

locals {
  log_router_name = "log_router"

  # Settings of infra/logshipd-firelens.yaml (baked into the image as
  # /etc/logshipd/firelens.yaml).
  log_router_environment = [
    { name = "AWS_REGION", value = var.aws_region },
    { name = "LOGSHIPD_ENVIRONMENT", value = var.environment },
    { name = "LOGSHIPD_PROJECT", value = var.project },
    { name = "LOGSHIPD_LOG_GROUP_PREFIX", value = var.log_group_prefix },
    { name = "LOGSHIPD_RETENTION_DAYS", value = tostring(var.cloudwatch_retention_days) },
    { name = "GRAFANA_CLOUD_LOKI_URL", value = var.grafana_cloud_loki_url },
    { name = "GRAFANA_CLOUD_LOKI_USER", value = var.grafana_cloud_loki_user },
  ]

  log_router_secrets = [
    { name = "LOGSHIPD_METRICS_CONFIG", valueFrom = aws_ssm_parameter.logshipd_metrics_config.arn },
    { name = "GRAFANA_CLOUD_API_KEY", valueFrom = aws_ssm_parameter.grafana_cloud_api_key.arn },
  ]
}

# The log router's own logs (never through itself).
resource "aws_cloudwatch_log_group" "log_router" {
  name              = "/ecs/${var.project}/${var.environment}/log-router"
  retention_in_days = 14
}

resource "aws_ecs_task_definition" "service" {
  for_each = var.services

  family                   = "${var.project}-${var.environment}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.ecs_execution.arn
  task_role_arn            = aws_iam_role.logshipd_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = local.log_router_name
      image     = var.logshipd_image
      essential = true
      # FireLens bind-mounts the socket directory at /var/run/, owned by root:
      # the router runs as root there (as in AWS's FireLens examples); the
      # image's own user is nonroot.
      user              = "0"
      memoryReservation = var.logshipd_memory_reservation
      firelensConfiguration = {
        # The only types ECS accepts are fluentbit and fluentd; logshipd ignores
        # the Fluent Bit configuration ECS generates.
        type = "fluentbit"
      }
      command     = ["run", "-c", "/etc/logshipd/firelens.yaml"]
      environment = concat(local.log_router_environment, [{ name = "LOGSHIPD_SERVICE", value = each.key }])
      secrets     = local.log_router_secrets
      portMappings = [
        { name = "logshipd-metrics", containerPort = 9464, protocol = "tcp" },
      ]
      healthCheck = {
        command     = ["CMD", "/logshipd", "health", "--addr", "127.0.0.1:9464"]
        interval    = 10
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.log_router.name
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = each.key
        }
      }
      stopTimeout = 30
    },
    {
      name      = each.key
      image     = var.service_images[each.key]
      essential = true
      portMappings = [
        { name = each.key, containerPort = each.value.port, protocol = "tcp" },
      ]
      dependsOn = [
        { containerName = local.log_router_name, condition = "HEALTHY" },
      ]
      logConfiguration = {
        logDriver = "awsfirelens"
        options = {
          # Lines Docker buffers while the router is busy (default 1,048,576).
          "log-driver-buffer-limit" = "65536"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "service" {
  for_each = var.services

  name                   = each.key
  cluster                = var.ecs_cluster_arn
  task_definition        = aws_ecs_task_definition.service[each.key].arn
  desired_count          = each.value.desired_count
  launch_type            = "FARGATE"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}
