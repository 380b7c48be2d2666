# Shared by the scripts that build a tool from its Go module (get-mediamtx.sh, get-pebble.sh).
# Source it after defining log(). Sets GO (the toolchain) and WORK (a temp dir removed on exit).

# Finds the Go toolchain: $GO, else `go` on PATH, else /usr/local/go/bin/go. $1: what to say when none.
find_go() {
  GO=${GO:-}
  [[ -n "$GO" ]] && return 0
  if command -v go >/dev/null 2>&1; then
    GO=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then
    GO=/usr/local/go/bin/go
  else
    log "no Go toolchain found (tried PATH and /usr/local/go/bin/go); $1"
    exit 1
  fi
}

# A scratch directory for module copies, removed on exit (module files are read-only: chmod first).
make_work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap 'chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# Extract "Dir" or "Error" from `go mod download -json` output without needing jq.
json_field() {
  local field=$1
  sed -n "s/^[[:space:]]*\"$field\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n1
}

# Downloads module $1 at tag $2 and copies it, writable, to $3. On failure sets ERR and returns 1.
copy_module() {
  local module=$1 tag=$2 dest=$3 json moddir
  log "[$tag] go mod download $module@$tag"
  if ! json=$("$GO" mod download -json "$module@$tag" 2>&1); then
    ERR="go mod download failed: $(printf '%s' "$json" | json_field Error)"
    [[ "$ERR" == "go mod download failed: " ]] && ERR="go mod download failed: $json"
    return 1
  fi
  moddir=$(printf '%s\n' "$json" | json_field Dir)
  if [[ -z "$moddir" || ! -d "$moddir" ]]; then
    ERR="go mod download returned no module Dir: $json"
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  cp -R "$moddir" "$dest"
  chmod -R u+w "$dest"
}

# `go build -trimpath` of package $2 in source dir $1 to $3 (written as $3.tmp, then moved). Sets ERR on failure.
go_build() {
  local src=$1 pkg=$2 out_file=$3 out start end
  start=$(date +%s)
  if ! out=$(cd "$src" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" \
      "$GO" build -trimpath -o "$out_file.tmp" "$pkg" 2>&1); then
    rm -f "$out_file.tmp"
    ERR="go build failed: $out"
    return 1
  fi
  end=$(date +%s)
  mv -f "$out_file.tmp" "$out_file"
  log "built in $((end - start))s"
}
