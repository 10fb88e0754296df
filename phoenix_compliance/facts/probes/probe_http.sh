# Endpoints asked from the host itself: the HTTP status of each URL in PHX_URLS,
# with bounded retries, one section (http_0, http_1, ...) per URL.
# One curl asks every URL still unanswered at once, with its IPv4 loopback form (below), in
# parallel, each transfer bounded by PHX_HTTP_TIMEOUT and the whole by timeout(1); wget, where
# there is no curl, one URL at a time.
# "localhost" may name ::1 first, where a rootless port forward need not answer
# (seen with pasta in a network namespace holding only loopback): then IPv4 loopback answers.

# URLs are split on blanks on purpose, never expanded as file name patterns.
set -f

# ask URL...: one line "INDEX STATUS" per URL (INDEX counts from 0 in the order given).
ask() {
  if command -v curl >/dev/null 2>&1; then
    n=$#
    for url; do set -- "$@" -o /dev/null "$url"; done
    shift "$n"
    said=$(timeout "$PHX_TIMEOUT" curl -s -Z --parallel-max 16 -w '%{urlnum} %{http_code}\n' --max-time "$PHX_HTTP_TIMEOUT" "$@" 2>/dev/null)
    case "$said" in
      [0-9]*" "[0-9]*) printf '%s\n' "$said" ;;
      *)
        # A curl before 7.75 (no -Z or no %{urlnum}): one transfer after another, in order.
        index=0
        timeout "$PHX_TIMEOUT" curl -s -w '%{http_code}\n' --max-time "$PHX_HTTP_TIMEOUT" "$@" |
          while read -r status; do
            printf '%s %s\n' "$index" "$status"
            index=$((index + 1))
          done
        ;;
    esac
  else
    index=0
    for url; do
      status=$(timeout "$PHX_TIMEOUT" wget -q -S -O /dev/null -T "$PHX_HTTP_TIMEOUT" "$url" 2>&1 | awk '/HTTP\//{s=$2} END{print s}')
      printf '%s %s\n' "$index" "${status:-000}"
      index=$((index + 1))
    done
  fi
}

if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  index=0
  for url in $PHX_URLS; do
    error_section "http_$index" 127 "neither curl nor wget on the host"
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
    # Every URL still unanswered, and for a localhost one its IPv4 loopback form too, in the
    # same request round: ask_N names the URL number of request N, ipv4_N the loopback form.
    asked= position=0 index=0
    while [ "$index" -lt "$count" ]; do
      eval "answered=\$answer_$index url=\$url_$index"
      if [ -z "$answered" ]; then
        asked="$asked $url"
        eval "ask_$position=$index kind_$position=url"
        position=$((position + 1))
        case "$url" in
          *://localhost:* | *://localhost/* | *://localhost)
            ipv4="${url%%://localhost*}://127.0.0.1${url#*://localhost}"
            asked="$asked $ipv4"
            eval "ask_$position=$index kind_$position=ipv4 ipv4_$index=\$ipv4"
            position=$((position + 1))
            ;;
        esac
      fi
      index=$((index + 1))
    done
    [ -n "$asked" ] || break
    # shellcheck disable=SC2086 # a URL list, split on purpose
    said=$(ask $asked)
    # The URL's own answer first; its IPv4 form's only where the URL gave none.
    while read -r number code; do
      case "$number" in "" | *[!0-9]*) continue ;; esac
      case "$code" in "" | *[!0-9]*) continue ;; esac
      eval "index=\$ask_$number kind=\$kind_$number"
      eval "status_${kind}_$index=\$code"
    done <<PHX_END
$said
PHX_END
    index=0 left=
    while [ "$index" -lt "$count" ]; do
      eval "answered=\$answer_$index own=\${status_url_$index-} other=\${status_ipv4_$index-} ipv4=\${ipv4_$index-}"
      if [ -z "$answered" ]; then
        case "$own" in
          "" | 000)
            case "$other" in
              "" | 000) left=1 ;;
              *) eval "answer_$index=\"\$other via \$ipv4 (localhost did not answer)\"" ;;
            esac
            ;;
          *) eval "answer_$index=\$own" ;;
        esac
      fi
      eval "status_url_$index= status_ipv4_$index="
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
      error_section "http_$index" 1 "no answer from $url after $PHX_RETRIES tries"
    fi
    index=$((index + 1))
  done
fi
