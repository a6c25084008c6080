"""A real group photo for the notebooks: from the data folder, or fetched once from its public source.

The photo is IBM CODAIT's team photo (Apache-2.0; the IBM MAX Image Segmenter
repository's test sample, pinned to a commit), 1200x600 with 13 visible
faces of 11-60 px: the kind of photo the Haar detector lost most faces in.
Its bytes are checked by sha256 wherever they come from.
"""

from __future__ import annotations

from pathlib import Path

from mepe_utils.errors import DataError

GROUP_PHOTO = "ibm_codait_office_group.jpg"
GROUP_PHOTO_SHA256 = "077aba20aba13da8262c7a6cdcdec17f5b8a841fe9ca2d3a7fe50bdd019c743c"
GROUP_PHOTO_URL = (
    "https://raw.githubusercontent.com/IBM/MAX-Image-Segmenter/764e7966acc5716411cd045854377565f5f73c8d/samples/stc.jpg"
)


def group_photo(data_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """The group photo's path: ``<data>/face_detection/photos/`` when present, else downloaded into ``cache_dir``.

    Args:
        data_dir: the data folder (default: :func:`mepe_utils.runtime.resolve_data_dir`'s search).
        cache_dir: where a downloaded copy is kept (default: the artifacts folder).

    Raises:
        DataError: the photo is neither here nor downloadable, or its bytes are not the expected ones.
    """
    from mepe_utils.artifacts import sha256_of, write_bytes_atomic
    from mepe_utils.runtime import resolve_artifacts_dir, resolve_data_dir

    folder = resolve_data_dir(data_dir, required=False)
    local = folder / "face_detection" / "photos" / GROUP_PHOTO if folder else None
    if local is None or not local.is_file():
        local = Path(cache_dir or resolve_artifacts_dir()) / GROUP_PHOTO
        if not local.is_file():
            import urllib.request

            try:
                with urllib.request.urlopen(GROUP_PHOTO_URL, timeout=30) as response:
                    write_bytes_atomic(local, response.read())
            except OSError as error:
                raise DataError(f"group photo not in the data folder and not downloadable ({error})") from None
    if sha256_of(local) != GROUP_PHOTO_SHA256:
        raise DataError(f"{local}: not the expected group photo (sha256 differs)")
    return local
