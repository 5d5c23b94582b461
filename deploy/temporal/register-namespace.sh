#!/bin/sh
# The namespace the workers use, and the custom search attributes Omniroute's workflows set
# (SEARCH_ATTRIBUTES="Name=Type ...", as in workflows/search_attributes.py). Existing ones are left alone: re-runnable.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"

attempts=0
until temporal operator cluster health >/dev/null 2>&1; do
  attempts=$((attempts + 1))
  [ "$attempts" -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS is not healthy" >&2; exit 1; }
  sleep 2
done

if ! temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$NAMESPACE" --retention "${NAMESPACE_RETENTION:-30d}"
fi

existing=$(temporal operator search-attribute list --namespace "$NAMESPACE" --output json)
for attribute in $SEARCH_ATTRIBUTES; do
  name=${attribute%%=*}
  kind=${attribute#*=}
  case "$existing" in
    *"\"$name\""*) echo "search attribute $name exists" ;;
    *) temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$kind" ;;
  esac
done
echo "namespace $NAMESPACE and search attributes are registered"
