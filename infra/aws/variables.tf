# Defaults equal the lab's configuration (lab/config.py): change them together, or set
# LAB_NAME_PREFIX / LAB_AWS_REGION to the same values when the silo runs with LAB_AWS_MODE=real.

variable "name_prefix" {
  description = "Prefix of every resource name; lab/config.py name_prefix (LAB_NAME_PREFIX)."
  type        = string
  default     = "secure-ai-lab"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "Same pattern as lab/config.py: lower-case letters, digits and dashes."
  }
}

variable "region" {
  description = "AWS region; lab/config.py aws_region (LAB_AWS_REGION)."
  type        = string
  default     = "us-east-1"
}

variable "workload_principal_arns" {
  description = "Principals (e.g. the roles of the EC2/ECS/Lambda workloads) allowed to assume each silo role."
  type = object({
    producer = list(string)
    consumer = list(string)
    trainer  = list(string)
  })
}
