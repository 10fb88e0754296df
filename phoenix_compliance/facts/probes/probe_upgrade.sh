# Upgrade probe (Podman 6): every containers.conf file Podman 5 or 6 may read, with its lines,
# and the environment that changes which ones (grammar/containers_conf.py puts them in the
# installed release's order). Read-only; each file bounded to 256 KiB, at most 64 files.
conf='
uid=$(id -u)
user_dir="${XDG_CONFIG_HOME:-$HOME/.config}/containers"
printf "@@UID %s\n" "$uid"
printf "@@ENV CONTAINERS_CONF=%s\n" "${CONTAINERS_CONF-}"
printf "@@ENV CONTAINERS_CONF_OVERRIDE=%s\n" "${CONTAINERS_CONF_OVERRIDE-}"
printf "@@USERDIR %s\n" "$user_dir"
count=0
for base in /usr/share/containers /etc/containers; do
  set -- "$@" "$base/containers.conf" "$base"/containers.conf.d/*.conf \
    "$base"/containers.rootless.conf.d/*.conf "$base/containers.rootless.conf.d/$uid"/*.conf \
    "$base"/containers.rootful.conf.d/*.conf
done
for f in "${CONTAINERS_CONF-}" "${CONTAINERS_CONF_OVERRIDE-}" "$@" "$user_dir/containers.conf" "$user_dir"/containers.conf.d/*.conf; do
  [ -n "$f" ] && [ -f "$f" ] || continue
  count=$((count + 1))
  if [ "$count" -gt 64 ]; then echo "@@MORE"; break; fi
  if [ -r "$f" ]; then
    printf "@@FILE %s %s\n" "$(wc -c <"$f")" "$f"
    head -c 262144 "$f" | sed "s/^/@@L /"
    echo
  else
    printf "@@UNREADABLE %s\n" "$f"
  fi
done'
section containers_conf sh -c "$conf"
