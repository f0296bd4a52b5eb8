"""A scan's session reuses the region lookups' parsed service models, unless its profile reads models of its own."""
from __future__ import annotations

import boto3

from mlps_scan.collectors.aws.partition import _lookup_session, share_model_loader


def test_a_plain_session_shares_the_lookup_loader():
    s = boto3.session.Session(region_name="cn-north-1", aws_access_key_id="a", aws_secret_access_key="b")
    share_model_loader(s)
    assert s._session.get_component("data_loader") is _lookup_session()._session.get_component("data_loader")


def test_a_profile_with_its_own_data_path_keeps_its_loader(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    cfg = tmp_path / "config"
    cfg.write_text(f"[profile custom]\nregion = cn-north-1\ndata_path = {models}\n")
    creds = tmp_path / "credentials"
    creds.write_text("[custom]\naws_access_key_id = a\naws_secret_access_key = b\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    _lookup_session()  # made before, from the default profile
    s = boto3.session.Session(profile_name="custom")
    own = s._session.get_component("data_loader")
    share_model_loader(s)
    assert s._session.get_component("data_loader") is own
    assert str(models) in own.search_paths
