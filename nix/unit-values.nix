# What may be written into a systemd unit file, for the host module's assertions.
#
# nixpkgs writes every unit setting as a `Key=value` line, verbatim (`attrsToSection` in
# nixos/lib/systemd-lib.nix). systemd ends a line at `\n` or a lone `\r`, continues it when it
# ends in an odd number of backslashes, and strips whitespace around the value. A value that does
# any of that would add directives or lose characters, so every value the module writes from the
# user's options goes through `checkWritten` (or `checkUnitValue`, `checkSettings`). `%` is no
# specifier in .nspawn and .network files, so it is written there as it is. In the service drop-in
# (systemd-nspawn@<name>.service) `%` starts a specifier in most settings: what the module writes
# there from user values is escaped for its setting (`escapeUnitPathWord`, `escapeExecArg`,
# `escapeSpecifiers`, `escapeCredentialText`); `serviceConfig` is the user's own systemd
# settings, where specifiers mean what they mean in any unit.
{ lib }:
let
  # U+0001..U+001F and U+007F (a Nix string cannot hold U+0000).
  controlCharacters = map (
    code:
    let
      hex = lib.fixedWidthString 4 "0" (lib.toHexString code);
    in
    {
      char = builtins.fromJSON ''"\u${hex}"'';
      name = "U+${hex}";
    }
  ) (lib.range 1 31 ++ [ 127 ]);
in
rec {
  # Why `text` cannot be a unit file value as it is, or null.
  unitValueProblem =
    text:
    let
      control = lib.findFirst (c: lib.hasInfix c.char text) null controlCharacters;
      trailingBackslashes = lib.last (builtins.match "(.*[^\\\\])?(\\\\*)" text);
    in
    if control != null then
      "contains the control character ${control.name}, which would end or break the line in the unit file"
    else if lib.mod (lib.stringLength trailingBackslashes) 2 == 1 then
      "ends in a backslash, which would continue the line in the unit file onto the next directive"
    else if builtins.match " .*|.* " text != null then
      "starts or ends with whitespace, which systemd strips from unit file values"
    else
      null;

  # Why the path `path` does not name what it reads as, or null: the module writes paths that
  # are "below" a directory or name one file, so a path has no empty (`//`, a trailing `/`),
  # `.` or `..` component, and fits the kernel's limits (255 bytes a file name, 4095 a path).
  # The loader's `path_problem` (harness/scenario/unit_values.py) is the same rule.
  pathProblem =
    path:
    let
      components = lib.splitString "/" path;
    in
    if builtins.match ".*//.*|.+/" path != null then
      "has an empty component (`//`, or `/` at the end): write the path without them"
    else if lib.any (c: c == "." || c == "..") components then
      "has a `.` or `..` component, which can lead out of the directory it names: write the path without them"
    else if lib.any (c: lib.stringLength c > 255) components then
      "has a component longer than 255 bytes, which no file name can be"
    else if lib.stringLength path > 4095 then
      "is longer than 4095 bytes, which no path can be"
    else
      null;

  # The failed assertion for the path `value` at option path `where`, if it has a problem.
  checkPath =
    where: value:
    let
      problem = pathProblem value;
    in
    lib.optional (problem != null) {
      assertion = false;
      message = "${where}: ${showValue value} ${problem}.";
    };

  # Keys of networkd settings are written as they are before `=`, and nested attribute sets
  # become sections of their own: every key is a setting name.
  isSettingName = key: builtins.match "[A-Za-z][A-Za-z0-9-]*" key != null;

  # A string for a message: quoted, every control character escaped (toJSON leaves DEL as is).
  showValue =
    value:
    let
      delete = lib.last controlCharacters;
    in
    lib.replaceStrings [ delete.char ] [ "\\u007f" ] (builtins.toJSON value);

  # The failed assertion for `value`, set at option path `where`, if it cannot be written into a
  # unit file as `written` (the value as the unit gets it, e.g. escaped); else none.
  checkWritten =
    where: value: written:
    let
      problem = unitValueProblem written;
    in
    lib.optional (problem != null) {
      assertion = false;
      message = "${where}: ${showValue value} ${problem}.";
    };

  checkUnitValue = where: value: checkWritten where value value;

  # `checkWritten`, then (if the value can be written) `checkPath`: one problem per path.
  checkWrittenPath =
    where: value: written:
    let
      unwritable = checkWritten where value written;
    in
    if unwritable != [ ] then unwritable else checkPath where value;

  # A path as one word of a unit's path list (`RequiresMountsFor=`): systemd splits the value at
  # whitespace, takes quotes and backslashes as quoting (`\x` is `x`), then expands `%`
  # specifiers. So a backslash, a space and each quote get a backslash, and `%` is doubled.
  escapeUnitPathWord =
    lib.replaceStrings [ "\\" " " "\"" "'" "%" ] [ "\\\\" "\\ " "\\\"" "\\'" "%%" ];

  # One argument of an `Exec*=` line, quoted as systemd.service(5) reads it: a double-quoted word
  # with C escapes (JSON's string escapes are a subset), `%%` for a literal `%` (no specifier) and
  # `$$` for a literal `$` (no variable substitution). The same rule as nixpkgs'
  # `utils.escapeSystemdExecArg`; written here so that the eval tier, which evaluates the module
  # without NixOS (and its `utils` argument), checks exactly what users get.
  escapeExecArg = arg: lib.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON arg);

  # A path in a setting that expands specifiers (`LoadCredential=ID:PATH`).
  escapeSpecifiers = lib.replaceStrings [ "%" ] [ "%%" ];

  # The data of `SetCredential=ID:DATA`: systemd reads C escapes in it (specifiers only in the
  # ID) and strips whitespace from the end of the line. So a backslash becomes `\\`, and every
  # control character and every space a `\xNN` escape.
  escapeCredentialText =
    let
      escapes = map (c: {
        inherit (c) char;
        escaped = "\\x${lib.toLower (lib.substring 4 2 c.name)}";
      }) controlCharacters;
    in
    lib.replaceStrings ([ "\\" " " ] ++ map (e: e.char) escapes) (
      [ "\\\\" "\\x20" ] ++ map (e: e.escaped) escapes
    );

  # The failed assertions of a tree of `kind` settings (e.g. "networkd") at option path `where`:
  # keys and values at any depth, list elements too. Store paths and other string-like values are
  # checked as the string they become.
  checkSettingsOf =
    kind: where: value:
    if lib.isStringLike value then
      checkUnitValue where (toString value)
    else if lib.isAttrs value then
      lib.concatLists (
        lib.mapAttrsToList (
          key: item:
          let
            at = "${where}.${lib.strings.escapeNixIdentifier key}";
          in
          if isSettingName key then
            checkSettingsOf kind at item
          else
            [
              {
                assertion = false;
                message = "${at}: the key ${showValue key} is not a ${kind} setting name (it is written into the unit file as it is): use letters, digits and `-`, starting with a letter.";
              }
            ]
        ) value
      )
    else if lib.isList value then
      lib.concatLists (lib.imap0 (index: checkSettingsOf kind "${where}[${toString index}]") value)
    else
      [ ];

  checkSettings = checkSettingsOf "networkd";
}
