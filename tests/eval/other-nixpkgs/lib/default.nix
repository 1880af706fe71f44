# The lib of the stand-in nixpkgs tree: the eval tier's nixpkgs lib, which nspawn_eval.py puts on
# the lookup path as <nixos-nspawn-eval-lib>.
import <nixos-nspawn-eval-lib>
