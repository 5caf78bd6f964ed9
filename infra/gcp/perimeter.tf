# VPC Service Controls: the four APIs that hold or protect training data answer only requests
# from inside the perimeter (the project), so stolen credentials used from outside are refused
# and data cannot be copied to a project outside it.
resource "google_access_context_manager_service_perimeter" "silo" {
  parent = "accessPolicies/${var.access_policy}"
  name   = "accessPolicies/${var.access_policy}/servicePerimeters/${replace(var.name_prefix, "-", "_")}_gcp"
  title  = "${var.name_prefix}-gcp"
  status {
    resources           = ["projects/${var.project_number}"]
    restricted_services = local.restricted_apis
    vpc_accessible_services {
      enable_restriction = true
      allowed_services   = local.restricted_apis
    }
  }
}
