# The GCP silo's real-cloud controls: Cloud KMS key (90-day rotation) as CMEK on the Pub/Sub
# topics, the BigQuery dataset and table, and the GCS bucket; service accounts bound on single
# resources; a VPC Service Controls perimeter around the four APIs.

locals {
  # ingestion/gcp/clients.py GcpNames and ingestion/gcp/provision.py constants.
  topic            = "${var.name_prefix}-gcp-records"
  deadletter_topic = "${var.name_prefix}-gcp-deadletter"
  subscription     = "${var.name_prefix}-gcp-records-landing"
  dataset          = "${replace(var.name_prefix, "-", "_")}_gcp"
  table            = "records"
  bucket           = "${var.name_prefix}-gcp-landing"
  key_ring         = "${var.name_prefix}-gcp"
  crypto_key       = "landing"
  rotation_period  = "7776000s" # 90 days, ROTATION_PERIOD
  ack_deadline_s   = 10
  max_delivery     = 5
  labels           = { lab = "secure-ai-data-pipelines", silo = "gcp" }
  identities       = toset(["producer", "consumer", "trainer"])
  restricted_apis  = ["pubsub.googleapis.com", "bigquery.googleapis.com", "storage.googleapis.com", "cloudkms.googleapis.com"]
  pubsub_agent     = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  bigquery_agent   = "serviceAccount:bq-${var.project_number}@bigquery-encryption.iam.gserviceaccount.com"
  storage_agent    = "serviceAccount:service-${var.project_number}@gs-project-accounts.iam.gserviceaccount.com"
  cmek_service_ids = toset([local.pubsub_agent, local.bigquery_agent, local.storage_agent])
}

resource "google_kms_key_ring" "silo" {
  name     = local.key_ring
  location = var.location
}

resource "google_kms_crypto_key" "landing" {
  name                       = local.crypto_key
  key_ring                   = google_kms_key_ring.silo.id
  purpose                    = "ENCRYPT_DECRYPT"
  rotation_period            = local.rotation_period
  destroy_scheduled_duration = "2592000s" # 30 days, the Cloud KMS default, stated
  labels                     = local.labels
  lifecycle {
    prevent_destroy = true
  }
}

# CMEK needs each service's agent to use the key.
resource "google_kms_crypto_key_iam_member" "service_agents" {
  for_each      = local.cmek_service_ids
  crypto_key_id = google_kms_crypto_key.landing.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}

resource "google_pubsub_topic" "records" {
  name         = local.topic
  kms_key_name = google_kms_crypto_key.landing.id
  labels       = local.labels
  depends_on   = [google_kms_crypto_key_iam_member.service_agents]
}

resource "google_pubsub_topic" "deadletter" {
  name         = local.deadletter_topic
  kms_key_name = google_kms_crypto_key.landing.id
  labels       = local.labels
  depends_on   = [google_kms_crypto_key_iam_member.service_agents]
}

resource "google_pubsub_subscription" "landing" {
  name                    = local.subscription
  topic                   = google_pubsub_topic.records.id
  ack_deadline_seconds    = local.ack_deadline_s
  enable_message_ordering = true
  labels                  = local.labels
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.deadletter.id
    max_delivery_attempts = local.max_delivery
  }
}

resource "google_bigquery_dataset" "silo" {
  dataset_id = local.dataset
  location   = var.location # CMEK: the key must be in the data's location
  labels     = local.labels
  default_encryption_configuration {
    kms_key_name = google_kms_crypto_key.landing.id
  }
  depends_on = [google_kms_crypto_key_iam_member.service_agents]
}

resource "google_bigquery_table" "records" {
  dataset_id          = google_bigquery_dataset.silo.dataset_id
  table_id            = local.table
  deletion_protection = true
  labels              = local.labels
  encryption_configuration {
    kms_key_name = google_kms_crypto_key.landing.id
  }
  schema = jsonencode([
    { name = "id", type = "STRING", mode = "REQUIRED" },
    { name = "silo", type = "STRING", mode = "REQUIRED" },
    { name = "producer", type = "STRING", mode = "REQUIRED" },
    { name = "timestamp", type = "TIMESTAMP", mode = "REQUIRED" },
    { name = "label", type = "INTEGER", mode = "REQUIRED" },
    { name = "features", type = "FLOAT", mode = "REPEATED" },
    { name = "signature", type = "STRING", mode = "REQUIRED" },
    { name = "batch_id", type = "STRING", mode = "REQUIRED", description = "the GCS batch holding the sealed copy" },
  ])
}

resource "google_storage_bucket" "landing" {
  #checkov:skip=CKV_GCP_62:Object access is audited by Cloud Audit Logs data-access logs (audit.tf), not by legacy usage logs.
  name                        = local.bucket
  location                    = var.location # same location as the key
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels
  versioning {
    enabled = true
  }
  encryption {
    default_kms_key_name = google_kms_crypto_key.landing.id
  }
  lifecycle_rule {
    condition {
      age            = 90
      matches_prefix = ["deadletter/"]
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.service_agents]
}
