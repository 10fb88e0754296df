# Files the stack's own files name (env_file:, EnvironmentFile=), read on the host only
# when some are named: one section (file_0, file_1, ...) per path of PHX_FILES (one a
# line; ~/ is the user's home), each cut at PHX_MAX_BYTES so a huge file costs nothing.
index=0
while IFS= read -r path; do
  [ -n "$path" ] || continue
  section "file_$index" head -c "$PHX_MAX_BYTES" "$(home_path "$path")"
  index=$((index + 1))
done <<PHX_END
$PHX_FILES
PHX_END
