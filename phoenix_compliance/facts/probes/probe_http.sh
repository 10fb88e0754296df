# Endpoints asked from the host itself: the HTTP status of each URL in PHX_URLS,
# with bounded retries, one section (http_0, http_1, ...) per URL.
# One curl asks every URL still unanswered at once (in parallel, each transfer bounded by
# PHX_HTTP_TIMEOUT, the whole by timeout(1)); wget, where there is no curl, one URL at a time.
# "localhost" may name ::1 first, where a rootless port forward need not answer
# (seen with pasta in a network namespace holding only loopback): then IPv4 loopback is tried.

# ask URL...: one line "INDEX STATUS" per URL (INDEX counts from 0 in the order given).
ask() {
  if command -v curl >/dev/null 2>&1; then
    set -- $(for url in "$@"; do printf -- '-o /dev/null %s ' "$url"; done)
    timeout "$PHX_TIMEOUT" curl -s -Z --parallel-max 16 -w '%{urlnum} %{http_code}\n' --max-time "$PHX_HTTP_TIMEOUT" "$@"
  else
    index=0
    for url in "$@"; do
      status=$(timeout "$PHX_TIMEOUT" wget -q -S -O /dev/null -T "$PHX_HTTP_TIMEOUT" "$url" 2>&1 | awk '/HTTP\//{s=$2} END{print s}')
      printf '%s %s\n' "$index" "${status:-000}"
      index=$((index + 1))
    done
  fi
}

if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  index=0
  for url in $PHX_URLS; do
    name=http_$index rc=127 out= said=$(printf 'neither curl nor wget on the host\n' | base64 -w0)
    frame
    index=$((index + 1))
  done
else
  # The answer of URL number N is kept in answer_N, empty while there is none.
  count=0
  for url in $PHX_URLS; do
    eval "url_$count=\$url answer_$count="
    count=$((count + 1))
  done
  attempt=0
  while [ "$attempt" -lt "$PHX_RETRIES" ]; do
    attempt=$((attempt + 1))
    # The URLs still unanswered, as they are and on IPv4 loopback.
    pending= asked= fallback= fallback_asked=
    index=0
    while [ "$index" -lt "$count" ]; do
      eval "answered=\$answer_$index url=\$url_$index"
      if [ -z "$answered" ]; then
        pending="$pending $index"
        asked="$asked $url"
      fi
      index=$((index + 1))
    done
    [ -n "$pending" ] || break
    # shellcheck disable=SC2086 # URL lists, split on purpose
    said=$(ask $asked)
    position=0
    for index in $pending; do
      status=$(printf '%s\n' "$said" | while read -r number code; do [ "$number" = "$position" ] && echo "$code"; done)
      case "$status" in
        "" | 000)
          eval "url=\$url_$index"
          case "$url" in
            *://localhost:* | *://localhost/* | *://localhost)
              fallback="$fallback $index"
              fallback_asked="$fallback_asked ${url%%://localhost*}://127.0.0.1${url#*://localhost}"
              ;;
          esac
          ;;
        *) eval "answer_$index=\$status" ;;
      esac
      position=$((position + 1))
    done
    if [ -n "$fallback" ]; then
      # shellcheck disable=SC2086
      said=$(ask $fallback_asked)
      position=0
      set -- $fallback_asked
      for index in $fallback; do
        ipv4=$1
        shift
        status=$(printf '%s\n' "$said" | while read -r number code; do [ "$number" = "$position" ] && echo "$code"; done)
        case "$status" in
          "" | 000) ;;
          *) eval "answer_$index=\"\$status via \$ipv4 (localhost did not answer)\"" ;;
        esac
        position=$((position + 1))
      done
    fi
    index=0 left=
    while [ "$index" -lt "$count" ]; do
      eval "answered=\$answer_$index"
      [ -n "$answered" ] || left=1
      index=$((index + 1))
    done
    [ -n "$left" ] || break
    [ "$attempt" -ge "$PHX_RETRIES" ] || sleep 1
  done
  index=0
  while [ "$index" -lt "$count" ]; do
    eval "answered=\$answer_$index url=\$url_$index"
    if [ -n "$answered" ]; then
      text_section "http_$index" 0 "$answered"
    else
      name=http_$index rc=1 out=
      said=$(printf 'no answer from %s after %s tries\n' "$url" "$PHX_RETRIES" | base64 -w0)
      frame
    fi
    index=$((index + 1))
  done
fi
