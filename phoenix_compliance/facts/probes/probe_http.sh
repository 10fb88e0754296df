# Endpoints asked from the host itself: the HTTP status of each URL in PHX_URLS,
# with bounded retries, one section (http_0, http_1, ...) per URL.
# A string for `sh -c`, because timeout(1) cannot run a shell function.
http_status='
if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  echo "neither curl nor wget on the host" >&2
  exit 127
fi
ask() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -w "%{http_code}" --max-time "$PHX_HTTP_TIMEOUT" "$1"
  else
    wget -q -S -O /dev/null -T "$PHX_HTTP_TIMEOUT" "$1" 2>&1 | awk "/HTTP\\//{s=\$2} END{print s}"
  fi
}
# "localhost" may name ::1 first, where a rootless port forward need not answer
# (seen with pasta in a network namespace holding only loopback): then try IPv4 loopback.
ipv4=
case "$0" in
  *://localhost:*|*://localhost/*|*://localhost) ipv4=$(printf "%s" "$0" | sed "s#://localhost#://127.0.0.1#") ;;
esac
attempt=0
while [ "$attempt" -lt "$PHX_RETRIES" ]; do
  attempt=$((attempt + 1))
  status=$(ask "$0")
  case "$status" in ""|000) ;; *) printf "%s" "$status"; exit 0 ;; esac
  if [ -n "$ipv4" ]; then
    status=$(ask "$ipv4")
    case "$status" in ""|000) ;; *) printf "%s via %s (localhost did not answer)" "$status" "$ipv4"; exit 0 ;; esac
  fi
  sleep 1
done
echo "no answer from $0 after $PHX_RETRIES tries" >&2
exit 1'
index=0
for url in $PHX_URLS; do
  section "http_$index" sh -c "$http_status" "$url"
  index=$((index + 1))
done
