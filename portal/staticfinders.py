"""Serve the few files the pages use from the npm packages, not the packages' whole dist folders.

The dist folders hold every build of each library (84 MB collected with their maps,
and most of collectstatic's time); the pages load one stylesheet or script of each.
"""

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# URL prefix -> (folder inside node_modules, files the templates load, with their source maps).
VENDOR_FILES = {
    "vendor/bootstrap": (
        "bootstrap/dist",
        [
            "css/bootstrap.min.css", "css/bootstrap.min.css.map",
            "css/bootstrap.rtl.min.css", "css/bootstrap.rtl.min.css.map",
            "js/bootstrap.bundle.min.js", "js/bootstrap.bundle.min.js.map",
        ],
    ),
    "vendor/chart.js": ("chart.js/dist", ["chart.umd.min.js", "chart.umd.min.js.map"]),
}  # fmt: skip


class VendorFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.packages = {}
        for prefix, (folder, files) in VENDOR_FILES.items():
            storage = FileSystemStorage(location=settings.NODE_MODULES / folder)
            storage.prefix = prefix
            self.packages[prefix] = (storage, files)

    def find(self, path, find_all=False, **kwargs):
        find_all = find_all or kwargs.get("all", False)  # the name before Django 5.2
        found = []
        for prefix, (storage, files) in self.packages.items():
            name = path.removeprefix(f"{prefix}/")
            if name != path and name in files and storage.exists(name):
                if not find_all:
                    return storage.path(name)
                found.append(storage.path(name))
        return found

    def list(self, ignore_patterns):
        for storage, files in self.packages.values():
            for name in files:
                if storage.exists(name):
                    yield name, storage
