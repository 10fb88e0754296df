# Endpoints asked from the host itself: the HTTP status of each URL in PHX_URLS,
# with bounded retries, one section (http_0, http_1, ...) per URL.
# A string for `sh -c`, because timeout(1) cannot run a shell function.
http_status='
attempt=0
while [ "$attempt" -lt "$PHX_RETRIES" ]; do
  attempt=$((attempt + 1))
  if command -v curl >/dev/null 2>&1; then
    status=$(curl -s -o /dev/null -w "%{http_code}" --max-time "$PHX_HTTP_TIMEOUT" "$0")
  else
    status=$(wget -q -S -O /dev/null -T "$PHX_HTTP_TIMEOUT" "$0" 2>&1 | awk "/HTTP\\//{s=\$2} END{print s}")
  fi
  case "$status" in ""|000) sleep 1 ;; *) printf "%s" "$status"; exit 0 ;; esac
done
echo "no answer from $0 after $PHX_RETRIES tries" >&2
exit 1'
index=0
for url in $PHX_URLS; do
  section "http_$index" sh -c "$http_status" "$url"
  index=$((index + 1))
done
