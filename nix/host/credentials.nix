# Credentials for a container (systemd.exec(5), "Credentials"). .nspawn files have no credential
# settings and systemd-nspawn imports nothing by itself, so the container's service loads each one
# (`LoadCredential=` reads a file as root when the unit starts, `SetCredential=` holds a text) and
# hands it on with `--load-credential=ID:ID`, a bare ID that systemd-nspawn reads from the
# service's `$CREDENTIALS_DIRECTORY`. In the container, they are system credentials of its systemd.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; })
    checkWritten
    checkWrittenPath
    escapeCredentialText
    escapeSpecifiers
    showValue
    ;

  # systemd takes any file name as an ID; these are the ones that need no quoting anywhere they
  # are written (`ID:PATH`, `ID:DATA`, `--load-credential=ID:ID`).
  isValidId = id: builtins.match "[A-Za-z0-9_][A-Za-z0-9_.@+-]*" id != null && lib.stringLength id <= 255;

  loadCredential = id: cred: "${id}:${escapeSpecifiers cred.file}";
  setCredential = id: cred: "${id}:${escapeCredentialText cred.text}";

  # Only credentials that pass their checks are written (the others fail an assertion), so that a
  # bad value is reported once, at the credential.
  valid = name: id: cred: lib.all (a: a.assertion) (credentialChecks name id cred);
  writable = name: c: lib.filterAttrs (valid name) c.credentials;
  filesOf = name: c: lib.filterAttrs (_: cred: cred.file != null) (writable name c);
  textsOf = name: c: lib.filterAttrs (_: cred: cred.text != null) (writable name c);

  credentialModule = {
    options = {
      file = lib.mkOption {
        type = lib.types.nullOr (
          lib.types.pathWith {
            absolute = true;
            inStore = false;
          }
        );
        default = null;
        example = "/run/secrets/db-password";
        description = ''
          A file on the host whose content is the credential, given as a string: systemd reads it
          as root each time the container starts, so it can (and should) be readable by root
          only. It never enters the Nix store, which is why a Nix path (`./secret`, which Nix
          would copy into the store) is refused. Set this or {option}`text`.
        '';
      };
      text = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        example = "max_connections = 100";
        description = ''
          The credential's content, for data that is not secret: it is written into the unit
          file, and so lands world-readable in the Nix store. Use {option}`file` for secrets.
          Set this or {option}`file`.
        '';
      };
    };
  };

  credentialChecks =
    name: id: cred:
    let
      at = "${common.where name}.credentials.${lib.strings.escapeNixIdentifier id}";
    in
    [
      {
        assertion = isValidId id;
        message = "${at}: the credential ID ${showValue id} is not valid: use letters, digits and `_`, `.`, `@`, `+`, `-` (not `.`, `@`, `+` or `-` first), at most 255 characters.";
      }
      {
        assertion = (cred.file == null) != (cred.text == null);
        message = "${at}: set exactly one of `file` (a host file, read when the container starts) and `text` (stored in the Nix store).";
      }
    ]
    ++ lib.optionals (cred.file != null) (
      checkWrittenPath "${at}.file" cred.file (loadCredential id cred)
    )
    ++ lib.optionals (cred.text != null) (checkWritten "${at}.text" cred.text (setCredential id cred));

in
{
  options.nixos-nspawn.containers = lib.mkOption {
    # Declared in ../host.nix; this module adds `credentials` to every container.
    type = lib.types.attrsOf (
      lib.types.submodule (
        { name, config, ... }:
        {
          options.credentials = lib.mkOption {
            type = lib.types.attrsWith {
              placeholder = "id";
              elemType = lib.types.submodule credentialModule;
            };
            default = { };
            example = lib.literalExpression ''
              {
                db-password.file = "/run/secrets/db-password";
                "tmpfiles.extra".text = "d /var/lib/app 0750 root root -";
              }
            '';
            description = ''
              Credentials passed into the container, by ID: each is loaded by the container's
              `systemd-nspawn@<name>.service` and handed to systemd-nspawn, and the container's
              systemd receives it as a system credential. A service in the container reads it
              with `LoadCredential=<id>` (or `ImportCredential=<id>`, systemd 254 and newer) from
              `$CREDENTIALS_DIRECTORY/<id>`; with systemd 254 and newer it is also at
              `/run/credentials/@system/<id>`, readable by the container's root only. Credentials
              that systemd's own tools read (`passwd.hashed-password.root`, `tmpfiles.extra`,
              `firstboot.*`, ...) work too. A change of a file's content takes effect at the next
              start of the container.
            '';
          };

          config = {
            serviceConfig = {
              LoadCredential = lib.mkIf (filesOf name config != { }) (
                lib.mapAttrsToList loadCredential (filesOf name config)
              );
              SetCredential = lib.mkIf (textsOf name config != { }) (
                lib.mapAttrsToList setCredential (textsOf name config)
              );
            };
            nspawnArguments = map (id: "--load-credential=${id}:${id}") (
              lib.attrNames (writable name config)
            );
          };
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (
      lib.mapAttrsToList (
        name: c: lib.concatLists (lib.mapAttrsToList (credentialChecks name) c.credentials)
      ) cfg.containers
    );
  };
}
