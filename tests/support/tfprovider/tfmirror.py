"""Packaging of terraform-provider-testcloud, shared by make-mirror and
serve-mirror: the provider's address, its reproducible zip, and the two
package hashes terraform writes in .terraform.lock.hcl.

Standard library only, so that the mirror side needs nothing but python3."""
import base64
import hashlib
import io
import os
import zipfile

HERE = os.path.dirname(os.path.realpath(__file__))

HOSTNAME = "registry.terraform.io"
NAMESPACE = "infra-agent-test"
TYPE = "testcloud"
VERSION = "0.1.0"
TARGET = "linux_amd64"
SOURCE = "%s/%s/%s" % (HOSTNAME, NAMESPACE, TYPE)
ZIP_NAME = "terraform-provider-%s_%s_%s.zip" % (TYPE, VERSION, TARGET)

# The package's files: name in the package -> (file beside this module, mode).
# Terraform runs the file whose name starts with terraform-provider-TYPE; the
# _vVERSION suffix is how registry packages name it. The .proto files are
# read by the provider at start.
FILES = {
    "terraform-provider-%s_v%s" % (TYPE, VERSION): ("terraform-provider-testcloud", 0o755),
    "testcloud.proto": ("testcloud.proto", 0o644),
    "goplugin.proto": ("goplugin.proto", 0o644),
    "health.proto": ("health.proto", 0o644),
}

# Every entry gets this timestamp (the earliest a zip can hold), so that the
# archive, and with it its zh: hash, depends only on the files' bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def package_files():
    """[(name in package, bytes, mode)], sorted by name."""
    out = []
    for name in sorted(FILES):
        src, mode = FILES[name]
        with open(os.path.join(HERE, src), "rb") as f:
            out.append((name, f.read(), mode))
    return out


def build_zip():
    """The package as zip bytes, the same on every machine: fixed order,
    times and modes, and stored (not deflated) so that no zlib version can
    change a byte."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data, mode in package_files():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3  # Unix, so that the mode below is honoured
            info.external_attr = (0o100000 | mode) << 16  # regular file + mode
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)
    return buf.getvalue()


def hash_zh(zip_bytes):
    """Terraform's legacy zip hash: sha256 of the archive, hex."""
    return "zh:" + hashlib.sha256(zip_bytes).hexdigest()


def hash_h1(files):
    """Terraform's h1: hash (Go's dirhash.Hash1) of a package's contents,
    which is the same for the zip and its unpacked directory: for each file
    in name order a line "<sha256 hex>  <name>\\n", then base64 of the
    sha256 of all those lines. files: [(name, bytes)]."""
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(("%s  %s\n" % (hashlib.sha256(data).hexdigest(), name)).encode())
    return "h1:" + base64.b64encode(h.digest()).decode()


def hash_h1_zip(zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        return hash_h1([(i.filename, z.read(i)) for i in z.infolist() if not i.is_dir()])
