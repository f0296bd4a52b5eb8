"""Built-in collector plugins (installed as mlps_scan.collectors). One module per peer."""
