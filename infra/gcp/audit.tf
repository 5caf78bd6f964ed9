# Data-access audit logs for the services that hold the data and the key (off by default in GCP).
resource "google_project_iam_audit_config" "data_access" {
  for_each = toset(local.restricted_apis)
  project  = var.project
  service  = each.value
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
