output "lab_environment" {
  description = "Settings that point the silo at this project (LAB_GCP_MODE=real)."
  value = {
    LAB_GCP_MODE     = "real"
    LAB_GCP_PROJECT  = var.project
    LAB_GCP_LOCATION = var.location
    LAB_NAME_PREFIX  = var.name_prefix
  }
}

output "service_accounts" {
  value = { for k, a in google_service_account.silo : k => a.email }
}
