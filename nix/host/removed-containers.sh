# Stops the containers that the previous generation declared and this one does not
# (nix/host/lifecycle.nix runs it at every activation; docs/lifecycle.md).
#   removed-containers.sh STATE stop|keep|record NAME...
# STATE holds the names the previous generation declared, one a line; NAME... are this
# generation's, which replace them. `stop` stops the removed ones, `keep` only says that they
# keep running, `record` (the activation of a boot, before systemd runs) only writes STATE.
# Only names in STATE are ever stopped: a machine that this module did not declare is never
# touched. Container names are letters, digits and `-` (the module's assertions), so they need
# no quoting. $SYSTEMCTL is the systemctl to use.
set -u
state=$1
mode=$2
shift 2
systemctl=${SYSTEMCTL:-systemctl}

if [ -f "$state" ] && [ "$mode" != record ]; then
  while read -r old; do
    case " $* " in
      *" $old "*) continue ;;
    esac
    [ -n "$old" ] || continue
    if [ "$mode" = stop ]; then
      echo "nixos-nspawn: stopping the removed container $old"
      "$systemctl" stop "systemd-nspawn@$old.service" </dev/null ||
        echo "nixos-nspawn: could not stop systemd-nspawn@$old.service" >&2
    else
      echo "nixos-nspawn: the removed container $old keeps running (nixos-nspawn.stopRemoved = false)"
    fi
  done <"$state"
fi

mkdir -p "$(dirname "$state")"
for name in "$@"; do echo "$name"; done >"$state.new" && mv "$state.new" "$state"
