"""Built-in check plugins (installed as mlps_scan.checks). One module per provider and theme."""
