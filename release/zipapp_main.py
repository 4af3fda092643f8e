# The release zipapp's __main__.py: release/build.py puts this file into the
# archive under that name.  It has to parse on any python3, so that a too-old
# one says so in one line instead of failing with a SyntaxError somewhere else.
import os
import sys

if sys.version_info < (3, 9):
    sys.stderr.write(
        "error: kubectl-apiinfo needs Python 3.9 or newer, but %s is Python %d.%d\n"
        % (sys.executable or "python3", sys.version_info[0], sys.version_info[1])
    )
    sys.exit(1)


BUILD_ID_MEMBER = "_kubectl_apiinfo_build_id"


def _unpacked(archive):
    """The directory to import from: an unpacked copy of this archive in the user's cache, else the archive.

    Python keeps no bytecode for modules imported from a zip, so every run would
    compile the whole bundle again (about 120 ms).  The first run of a build
    unpacks it once; later runs import the copy and its cached bytecode.  Where
    the cache cannot be written, the archive itself serves.
    """
    try:
        # The loader that ran this file already holds the archive's directory: a name
        # relative to the archive needs no second read of it.
        build = __loader__.get_data(BUILD_ID_MEMBER).decode("ascii").strip()[:24]
    except (OSError, NameError, AttributeError, UnicodeDecodeError):
        return archive  # not run from the archive (a test importing this file, say)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = os.path.join(base, "kubectl-apiinfo-runtime")
    target = os.path.join(root, build)
    if os.path.isfile(os.path.join(target, ".complete")):
        return target
    import shutil
    import tempfile
    import zipfile

    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".unpacking-", dir=root)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging, [n for n in zf.namelist() if n != "__main__.py"])
        import compileall

        # Compile now, as pip does at install time: later runs then load bytecode even
        # where PYTHONDONTWRITEBYTECODE would stop the imports from writing it.
        compileall.compile_dir(staging, quiet=2, workers=1)
        open(os.path.join(staging, ".complete"), "w").close()
        try:
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # a concurrent first run got there first
        for other in os.listdir(root):
            if other != build and not other.startswith(".unpacking-"):
                shutil.rmtree(os.path.join(root, other), ignore_errors=True)  # earlier builds
    except OSError:
        return archive
    return target if os.path.isfile(os.path.join(target, ".complete")) else archive


def _bundled_libraries_only(archive, home):
    """Import only from this build (home: the archive or its unpacked copy) and the standard library.

    The archive carries every library the plugin needs, at the versions it was
    tested with.  Whatever else this python3 has in its site-packages (another
    click, or a rich that typer would reach for) must not change how it runs.
    """
    import site

    site_dirs = set()
    for getter in ("getsitepackages", "getusersitepackages"):
        try:
            found = getattr(site, getter)()
        except Exception:  # an old virtualenv's site.py lacks them
            continue
        for path in [found] if isinstance(found, str) else found:
            site_dirs.add(os.path.normcase(os.path.abspath(path)))

    def from_site(path):
        path = os.path.normcase(os.path.abspath(path))
        parts = path.replace("\\", "/").split("/")
        if "site-packages" in parts or "dist-packages" in parts:
            return True
        return any(path == d or path.startswith(d + os.sep) for d in site_dirs)

    ours = {archive, home}
    sys.path[:] = [home] + [p for p in sys.path if p and os.path.abspath(p) not in ours and not from_site(p)]
    # A .pth file may already have imported something from site-packages (a
    # certifi, say): forget it, so that an import finds the bundled one.
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if isinstance(origin, str) and not origin.startswith(home + os.sep) and from_site(origin):
            del sys.modules[name]


def _typer_without_rich():
    """typer formats help and errors with rich unless TYPER_USE_RICH says no.

    rich is not in the archive, so tell typer, which reads the variable once
    at import, and leave the environment as it was for any child process.
    Called only when the typer CLI is needed: a cached query never imports typer.
    """
    saved = os.environ.get("TYPER_USE_RICH")
    os.environ["TYPER_USE_RICH"] = "0"
    try:
        import typer  # noqa: F401
    finally:
        if saved is None:
            del os.environ["TYPER_USE_RICH"]
        else:
            os.environ["TYPER_USE_RICH"] = saved


_archive = os.path.dirname(os.path.abspath(__file__))
_bundled_libraries_only(_archive, _unpacked(_archive))

from kubectl_apiinfo.cli.main import main

main(prepare_cli=_typer_without_rich)
