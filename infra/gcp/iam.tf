# Service accounts and their bindings: the documents in ingestion/gcp/iam/ (tests/infra checks
# that roles, custom-role permissions and the resource each binding sits on agree).

resource "google_service_account" "silo" {
  for_each     = local.identities
  account_id   = "${var.name_prefix}-gcp-${each.key}"
  display_name = "Secure AI lab GCP ${each.key}"
}

locals {
  sa = { for k, a in google_service_account.silo : k => "serviceAccount:${a.email}" }
}

resource "google_project_iam_custom_role" "landing_writer" {
  role_id     = "labLandingWriter"
  title       = "Secure AI lab landing writer"
  permissions = ["storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list"]
}

resource "google_project_iam_custom_role" "row_writer" {
  role_id     = "labRowWriter"
  title       = "Secure AI lab row writer"
  permissions = ["bigquery.tables.get", "bigquery.tables.getData", "bigquery.tables.updateData"]
}

resource "google_project_iam_custom_role" "envelope_key_user" {
  role_id     = "labEnvelopeKeyUser"
  title       = "Secure AI lab envelope key user"
  permissions = ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeyVersions.useToDecrypt", "cloudkms.cryptoKeys.get"]
}

# producer: publish to the topic, nothing else
resource "google_pubsub_topic_iam_member" "producer_publisher" {
  topic  = google_pubsub_topic.records.id
  role   = "roles/pubsub.publisher"
  member = local.sa["producer"]
}

# consumer: pull from the subscription, land in GCS and BigQuery, wrap/unwrap data keys
resource "google_pubsub_subscription_iam_member" "consumer_subscriber" {
  subscription = google_pubsub_subscription.landing.id
  role         = "roles/pubsub.subscriber"
  member       = local.sa["consumer"]
}

resource "google_storage_bucket_iam_member" "consumer_landing_writer" {
  bucket = google_storage_bucket.landing.name
  role   = google_project_iam_custom_role.landing_writer.name
  member = local.sa["consumer"]
}

resource "google_bigquery_table_iam_member" "consumer_row_writer" {
  dataset_id = google_bigquery_dataset.silo.dataset_id
  table_id   = google_bigquery_table.records.table_id
  role       = google_project_iam_custom_role.row_writer.name
  member     = local.sa["consumer"]
}

resource "google_project_iam_member" "consumer_job_user" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = local.sa["consumer"]
}

resource "google_kms_crypto_key_iam_member" "consumer_envelope_key_user" {
  crypto_key_id = google_kms_crypto_key.landing.id
  role          = google_project_iam_custom_role.envelope_key_user.name
  member        = local.sa["consumer"]
}

# trainer: read landed batches and unwrap their data keys
resource "google_storage_bucket_iam_member" "trainer_object_viewer" {
  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectViewer"
  member = local.sa["trainer"]
}

resource "google_kms_crypto_key_iam_member" "trainer_decrypter" {
  crypto_key_id = google_kms_crypto_key.landing.id
  role          = "roles/cloudkms.cryptoKeyDecrypter"
  member        = local.sa["trainer"]
}
