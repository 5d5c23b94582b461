#!/bin/sh
# Writes the secrets docker-compose.yml mounts that can be generated (the app DB's password and URL, a
# codec key, the bootstrap admin key) into ./secrets/ (or the directory given), and names the ones left
# for you to write (the providers' live keys). Never overwrites a file: re-running is safe, and keys
# already in use stay. One value per file, no trailing newline.
#
# The directory is yours alone (0700); the files in it are 0644 because compose bind-mounts them into
# containers whose users are not you (the app runs as uid 10001, PostgreSQL as 999), and a file mounted
# on its own is read without the directory's protection.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/secrets}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

random_base64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
random_token() { random_base64 "$1" | tr '+/' '-_' | tr -d '='; }

write() {
  if [ -e "$dir/$1" ]; then
    echo "kept    $dir/$1"
    return 0
  fi
  printf '%s' "$2" >"$dir/$1"
  chmod 644 "$dir/$1"
  echo "wrote   $dir/$1"
}

write app_db_password "$(random_token 24)"
write database_url "postgresql+psycopg://omniroute:$(cat "$dir/app_db_password")@app-db:5432/omniroute"
write bootstrap_admin_key "$(random_token 32)"
if [ -e "$dir/codec_keys" ]; then
  echo "kept    $dir/codec_keys (CODEC_ACTIVE_KEY stays the id that encrypts now)"
else
  key_id="k$(date -u +%Y%m%d)"
  write codec_keys "{\"$key_id\": \"$(random_base64 32)\"}"
  echo "        export CODEC_ACTIVE_KEY=$key_id"
fi
# The secret EasyPost signs its webhooks with: yours to make, given to EasyPost with the webhook's URL.
write easypost_webhook_secret "$(random_token 32)"
# Partner secrets by name (docs/nodes.md): a whsec_ secret per WMS and vendor node, and ShipBob's webhook
# secret as "shipbob-webhooks". Starts empty; add each node's as you add the node.
write partner_secrets "{}"
# Shopify channels' webhook secrets (docs/channels-shopify.md): a JSON object channel -> the app's client
# secret. Starts empty: every Shopify webhook is answered 503 (Shopify retries) until its channel is added.
write shopify_webhook_secrets "{}"
# Empty until a 3PL node uses ShipBob; the worker then refuses to start while it is empty.
write shipbob_api_key ""
for name in easypost_api_key sendgrid_api_key; do
  [ -e "$dir/$name" ] || echo "missing $dir/$name: write the provider's live key into it"
done
