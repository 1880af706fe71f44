# The container `db`: PostgreSQL for the containers of its zone.
{
  services.postgresql = {
    enable = true;
    enableTCPIP = true;
  };
  networking.firewall.allowedTCPPorts = [ 5432 ];
}
