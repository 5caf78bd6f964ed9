# Defaults equal lab/config.py (name_prefix, gcp_location) and ingestion/gcp/provision.py
# (rotation period, ack deadline, delivery attempts, labels); tests/infra cross-checks them.

variable "project" {
  description = "LAB_GCP_PROJECT: the project that holds the silo."
  type        = string
}

variable "project_number" {
  description = "Numeric project number (service agents and the VPC-SC perimeter name projects by number)."
  type        = string
}

variable "access_policy" {
  description = "Access Context Manager policy number of the organisation (gcloud access-context-manager policies list)."
  type        = string
}

variable "name_prefix" {
  type    = string
  default = "secure-ai-lab"
}

variable "location" {
  description = "LAB_GCP_LOCATION: key ring location."
  type        = string
  default     = "us-central1"
}
