"""Running a scenario's NixOS VM test: ``nix build`` under a deadline and a reaper, the machine's
capabilities, live progress, reading the results back, and the driver's REPL (``--interactive``)."""
