"""What goes into the PyInstaller bundle and what must not: shared by the spec, the build script and the tests.

The rules are file-name based so they hold on Linux, Windows and macOS alike.
"""

from __future__ import annotations

import posixpath
import re
import struct
import sys
from pathlib import Path, PurePath

#: Python packages that must never be in the bundle (the training stack), checked after every build.
FORBIDDEN_PACKAGES = ("tensorflow", "keras", "tf2onnx", "onnx", "torch")

#: Modules PyInstaller must not follow: the training stack, onnxruntime's optional tooling (which imports
#: onnx/torch/transformers and through them TensorFlow), and heavy libraries nothing in the app uses.
EXCLUDED_MODULES = [
    *FORBIDDEN_PACKAGES,
    "tensorboard",
    "jax",
    "flax",
    "transformers",
    "onnxruntime.transformers",
    "onnxruntime.quantization",
    "onnxruntime.tools",
    "onnxruntime.training",
    "onnxruntime.backend",
    "matplotlib",
    "scipy",
    "pandas",
    "sympy",
    "IPython",
    "tkinter",
    "pytest",
    "hypothesis",
    "setuptools",
    # No network in the app: TLS (libssl/libcrypto, ~5 MB); hashlib falls back to its built-in sha256.
    "ssl",
    "_ssl",
    "_hashlib",
    # Pillow formats ultrasound images never come in (AVIF alone ships a 5 MB codec). The loader only lets
    # Pillow open PNG/JPEG/BMP/TIFF/GIF, and Pillow skips a plugin whose codec is missing. WebP: libwebp,
    # libwebpmux, libwebpdemux and libsharpyuv (~1 MB) go with it; Pillow's libtiff does not link them.
    "PIL._avif",
    "PIL.AvifImagePlugin",
    "PIL._webp",
    "PIL.WebPImagePlugin",
    # Pillow's Tk bridge (tkinter is excluded above, so it could not load anyway).
    "PIL._imagingtk",
    "PIL.ImageTk",
    # requests and its tree (urllib3, charset_normalizer, certifi's CA file, idna; ~1.2 MB): only
    # pydicom.data.download imports it, inside try/except, to fetch pydicom's test files; the app never does.
    "requests",
    "urllib3",
    "charset_normalizer",
    "certifi",
    "idna",
    # Developer tooling that nothing imports at run time: numpy's f2py and test helpers (numpy loads them only on
    # attribute access), unittest, doctest, the debugger, pydoc and its 0.75 MB of topics, readline (with
    # libreadline and libtinfo).
    "numpy.f2py",
    "numpy.testing",
    # numpy's C test helpers (numpy's own hook adds them for its tests), FFT and polynomial series (0.7 MB) and
    # random (2.6 MB; the self-test's synthetic image hashes its own noise): numpy 2 imports these subpackages only
    # on attribute access, and neither the app nor Pillow, pydicom or onnxruntime uses them. numpy.linalg stays:
    # numpy imports it at start-up (numpy.matrixlib).
    "numpy._core._multiarray_tests",
    "numpy.fft",
    "numpy.polynomial",
    "numpy.random",
    "unittest",
    "doctest",
    "pdb",
    "pydoc",
    "pydoc_data",
    "readline",
    # Process pools and event loops: the app works in threads; only concurrent.futures.ProcessPoolExecutor
    # would import multiprocessing, and nothing the app runs imports asyncio (a hook adds it).
    "multiprocessing",
    "asyncio",
    # decimal's pure-Python fallback; the C module _decimal is bundled and always used.
    "_pydecimal",
    # Qt for Python pulls these bindings through QtCharts' hook; the app never calls OpenGL from Python (the
    # C++ libraries QtCharts links to stay).
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    # Likewise the D-Bus bindings, pulled only because QtGui links libQt6DBus (which stays).
    "PySide6.QtDBus",
    "pkg_resources",
    # Qt modules the app does not use (their hooks would collect libraries, plugins, QML and translations).
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuick3D",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel",
    "PySide6.QtWebSockets",
    "PySide6.QtWebView",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtSpatialAudio",
    "PySide6.QtTextToSpeech",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DRender",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DExtras",
    "PySide6.QtDataVisualization",
    "PySide6.QtGraphs",
    "PySide6.QtGraphsWidgets",
    "PySide6.QtLocation",
    "PySide6.QtPositioning",
    "PySide6.QtBluetooth",
    "PySide6.QtNfc",
    "PySide6.QtSensors",
    "PySide6.QtSerialPort",
    "PySide6.QtSerialBus",
    "PySide6.QtRemoteObjects",
    "PySide6.QtScxml",
    "PySide6.QtStateMachine",
    "PySide6.QtSql",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtHttpServer",
    "PySide6.QtNetworkAuth",
    "PySide6.QtCanvasPainter",
    "PySide6.QtLabsStyleKit",
    "PySide6.QtAsyncio",
    "PySide6.QtTest",
]

#: Qt modules the app imports (widgets UI, charts for the probability/ROC plots, SVG for icons).
QT_HIDDEN_IMPORTS = [
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "PySide6.QtCharts",
    "PySide6.QtSvg",
]

#: Qt shared libraries kept (by module name, as in libQt6<Name>.so / Qt6<Name>.dll / Qt<Name>.framework).
QT_LIBRARIES_KEPT = frozenset(
    {
        "Core",
        "Gui",
        "Widgets",
        "Charts",
        "OpenGL",
        "OpenGLWidgets",
        "Svg",
        "SvgWidgets",
        "DBus",
        "XcbQpa",
    }
)

#: Qt plugin folders kept; every other plugin type (multimedia, sql, qml tooling, 3D, wayland...) goes.
QT_PLUGIN_DIRS_KEPT = frozenset(
    {
        "platforms",
        "platformthemes",
        "platforminputcontexts",
        "imageformats",
        "iconengines",
        "styles",
        "xcbglintegrations",
    }
)

#: Platform plugins dropped inside ``platforms/`` (xcb, offscreen, minimal, windows, cocoa stay).
QT_PLATFORMS_DROPPED = ("wayland", "eglfs", "linuxfb", "vnc", "vkkhrdisplay", "minimalegl")

#: Platform themes dropped: the GTK3 theme alone drags in ~30 MB of GTK, cairo and pango; Qt's own style is used.
QT_PLATFORMTHEMES_DROPPED = ("gtk",)

#: Input-context plugins dropped (the virtual keyboard needs Qt Quick/QML).
QT_INPUTCONTEXTS_DROPPED = ("virtualkeyboard",)

#: Image-format plugins kept: the app decodes images with Pillow (JPEG and GIF too) and hands Qt raw pixels; Qt
#: only reads icons (PNG is built into QtGui; ICO, and SVG for icon themes).
QT_IMAGEFORMATS_KEPT = ("qico", "qsvg")

#: Non-Qt files that are large and unused.
OTHER_UNWANTED = (
    re.compile(r"(^|/)libonnxruntime\.so[.\d]*$"),  # the C API library; the Python module links its own copy
    re.compile(r"(^|/)onnxruntime\.dll$"),
    re.compile(r"(^|/)libonnxruntime\.[\d.]*dylib$"),
    re.compile(r"(^|/)(libav|libsw)\w*\.(so|dll|dylib)"),  # FFmpeg pulled by QtMultimedia
)

#: Libraries loaded with dlopen (not linked), so the link walk in :func:`prune_binaries` must keep them.
DLOPENED_LIBRARIES = ("onnxruntime_providers_shared",)

_QT_LIBRARY = re.compile(
    r"^(?:lib)?Qt6?(?P<name>[A-Za-z0-9]+?)(?:\.abi3)?\.(?:so|dll|dylib|pyd|pyi)(?:\.[\d.]+)?$"
)
_QT_FRAMEWORK = re.compile(r"^Qt(?P<name>[A-Za-z0-9]+)\.framework$")


def _qt_module_name(part: str) -> str | None:
    match = _QT_LIBRARY.match(part) or _QT_FRAMEWORK.match(part)
    return match.group("name") if match else None


def is_unwanted_file(dest_name: str) -> bool:
    """True if the bundle path ``dest_name`` (e.g. ``PySide6/Qt/lib/libQt6Quick.so.6``) should be dropped."""
    path = PurePath(dest_name.replace("\\", "/"))
    parts = path.parts
    posix = path.as_posix()
    if any(pattern.search(posix) for pattern in OTHER_UNWANTED):
        return True
    if not parts or parts[0] not in ("PySide6", "shiboken6"):
        return False
    lowered = [p.lower() for p in parts]
    if "translations" in lowered or "qml" in lowered or "metatypes" in lowered or "libexec" in lowered:
        # Translations: the UI is English only, Qt's own strings stay untranslated.
        return True
    if "plugins" in lowered:
        index = lowered.index("plugins")
        if index + 1 >= len(parts):
            return False
        kind = parts[index + 1]
        if kind not in QT_PLUGIN_DIRS_KEPT:
            return True
        name = parts[-1].lower()
        if kind == "platforms" and any(dropped in name for dropped in QT_PLATFORMS_DROPPED):
            return True
        if kind == "platformthemes" and any(dropped in name for dropped in QT_PLATFORMTHEMES_DROPPED):
            return True
        if kind == "platforminputcontexts" and any(dropped in name for dropped in QT_INPUTCONTEXTS_DROPPED):
            return True
        return kind == "imageformats" and not any(kept in name for kept in QT_IMAGEFORMATS_KEPT)
    for part in parts:
        module = _qt_module_name(part)
        if module is not None:
            return module not in QT_LIBRARIES_KEPT
    return False


TocEntry = tuple[str, str, str]


def prune_bundle(binaries: list[TocEntry], datas: list[TocEntry]) -> tuple[list[TocEntry], list[TocEntry]]:
    """Drop unwanted files and libraries nothing kept needs, then symlinks (in either list) to dropped files."""
    kept_binaries = prune_binaries(binaries)
    kept_datas = [entry for entry in datas if not is_unwanted_file(entry[0])]
    kept_names = {
        PurePath(dest).as_posix() for dest, _, code in kept_binaries + kept_datas if code != "SYMLINK"
    }

    def target_kept(entry: TocEntry) -> bool:
        dest, src, code = entry
        if code != "SYMLINK":
            return True
        target = posixpath.normpath(posixpath.join(PurePath(dest).parent.as_posix(), src.replace("\\", "/")))
        return target in kept_names

    return [e for e in kept_binaries if target_kept(e)], [e for e in kept_datas if target_kept(e)]


def prune_binaries(entries: list[TocEntry]) -> list[TocEntry]:
    """Drop unwanted files, then shared libraries no longer needed by what is left.

    PyInstaller resolves the dependencies of every plugin before the spec can drop the plugin, so dropping e.g.
    the GTK theme leaves cairo, pango and friends behind. Roots are Python extensions, Qt plugins and the Python
    library; a plain library stays only if a kept binary links to it (directly or not). Symlinks to dropped files
    go too. Entries are PyInstaller TOC tuples (dest_name, source, typecode).
    """
    from PyInstaller.depend.bindepend import get_imports

    kept = [entry for entry in entries if not is_unwanted_file(entry[0])]
    libraries = {PurePath(dest).name: (dest, src, code) for dest, src, code in kept if code == "BINARY"}

    def is_root(dest: str, code: str) -> bool:
        name = PurePath(dest).name.lower()
        return (
            code not in ("BINARY", "SYMLINK")
            or "plugins" in dest.lower()
            or name.startswith(("libpython", "python"))
            or any(loaded in name for loaded in DLOPENED_LIBRARIES)
        )

    reachable: set[str] = set()
    queue = [src for dest, src, code in kept if is_root(dest, code) and code != "SYMLINK"]
    seen_sources: set[str] = set()
    while queue:
        source = queue.pop()
        if source in seen_sources or not Path(source).is_file():
            continue
        seen_sources.add(source)
        try:
            imports = get_imports(source)
        except Exception as error:  # noqa: BLE001 - an unparsable file keeps its place; its links stay unknown
            print(f"bundle_rules: cannot read the links of {source}: {error}", file=sys.stderr)
            imports = set()
        for name, _ in imports:
            library = libraries.get(PurePath(name).name)
            if library is not None and library[0] not in reachable:
                reachable.add(library[0])
                queue.append(library[1])
    return [
        (dest, src, code)
        for dest, src, code in kept
        if code not in ("BINARY", "SYMLINK") or is_root(dest, code) or dest in reachable or code == "SYMLINK"
    ]


def load_segments(path: Path) -> list[tuple[int, int, int, int]] | None:
    """(file offset, virtual address, file size, alignment) of each LOAD segment of a 64-bit ELF file, read from
    its program headers; None if ``path`` is not one."""
    with open(path, "rb") as handle:
        header = handle.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2:  # 2: ELFCLASS64
            return None
        order = "<" if header[5] == 1 else ">"
        (table_offset,) = struct.unpack_from(order + "Q", header, 0x20)
        entry_size, count = struct.unpack_from(order + "HH", header, 0x36)
        handle.seek(table_offset)
        table = handle.read(entry_size * count)
    if entry_size < 56 or len(table) < entry_size * count:
        return None
    segments = []
    for index in range(count):
        kind, _, offset, address, _, file_size, _, align = struct.unpack_from(
            order + "IIQQQQQQ", table, index * entry_size
        )
        if kind == 1:  # PT_LOAD
            segments.append((offset, address, file_size, align))
    return segments


def load_segments_aligned(path: Path) -> bool:
    """True if ``path`` is a 64-bit ELF file whose LOAD segments all keep offset and address congruent modulo the
    page size, as the dynamic loader demands ("ELF load command address/offset not page-aligned" otherwise)."""
    segments = load_segments(path)
    return segments is not None and all(
        (address - offset) % max(align, 4096) == 0 for offset, address, _, align in segments
    )


def strip_binaries(binaries: list[TocEntry], work_dir: Path) -> list[TocEntry]:
    """Point Linux binaries at stripped copies (symbols and debug info go): libpython drops from 23 MB to 6 MB,
    Pillow's _imaging from 3.5 MB to 0.8 MB.

    ``strip`` breaks some libraries auditwheel patched with patchelf (numpy's OpenBLAS and libgfortran: "ELF load
    command address/offset not page-aligned"), which is why PyInstaller's own ``strip`` is off. So a stripped copy
    replaces the original only if its LOAD segments stay page-aligned (:func:`load_segments_aligned`) and it is
    smaller. No-op where ``strip`` is missing or not on Linux.
    """
    import shutil
    import subprocess

    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return binaries
    work_dir.mkdir(parents=True, exist_ok=True)
    result: list[TocEntry] = []
    for dest, src, code in binaries:
        source = Path(src)
        if code in ("BINARY", "EXTENSION") and source.is_file():
            target = work_dir / dest.replace("/", "__")
            if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
                done = subprocess.run(
                    [strip, "--strip-unneeded", "-o", str(target), src], check=False, capture_output=True
                )
                if done.returncode != 0:
                    target.unlink(missing_ok=True)
            if (
                target.is_file()
                and target.stat().st_size < source.stat().st_size
                and load_segments_aligned(target)
            ):
                result.append((dest, str(target), code))
                continue
        result.append((dest, src, code))
    return result


def bundle_contents(bundle: Path, executable: Path) -> list[str]:
    """Every file in a one-folder ``bundle`` plus every entry (file or module) archived in ``executable``.

    PyInstaller keeps pure-Python modules in an archive appended to the executable, so a file listing alone
    would miss them; for a one-file build the archive holds everything.
    """
    from PyInstaller.archive.readers import pkg_archive_contents

    names: list[str] = []
    if bundle.is_dir():
        names += [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    names += pkg_archive_contents(str(executable))
    return names


def forbidden_entries(names: list[str]) -> list[str]:
    """The entries (paths or dotted module names) that belong to a :data:`FORBIDDEN_PACKAGES` package."""
    forbidden = set(FORBIDDEN_PACKAGES)
    return [
        name
        for name in names
        if any(part.split(".")[0] in forbidden for part in re.split(r"[/\\]", name) if part)
    ]


def folder_size(path: Path) -> int:
    """Total size in bytes of the files under ``path`` (or of the file itself)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
