"""Package layout: the engine in src/mlps_scan, the built-in plugin trees at the top of the repository
(collectors/, checks/) installed as mlps_scan.collectors and mlps_scan.checks, sub-packages included."""
from setuptools import find_packages, setup

packages = ["mlps_scan", *(f"mlps_scan.{p}" for p in find_packages("src/mlps_scan"))]
package_dir = {"": "src"}
for tree in ("collectors", "checks"):
    packages.append(f"mlps_scan.{tree}")
    package_dir[f"mlps_scan.{tree}"] = tree
    packages.extend(f"mlps_scan.{tree}.{p}" for p in find_packages(tree))

setup(packages=packages, package_dir=package_dir)
