# The container `app`: the web front (a static page here; your application in real life).
{
  services.nginx = {
    enable = true;
    virtualHosts.app.locations."/".return = "200 'hello from app'";
  };
  networking.firewall.allowedTCPPorts = [ 80 ];
}
