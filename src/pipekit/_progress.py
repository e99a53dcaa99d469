"""Progress bars for long work: ``progress=True`` draws a tqdm bar, imported only then.

One helper for every place of the family that shows progress (the parallel maps,
geocatalog's ``CatalogPipeline.run``, ``pipekit_jax.fit`` and ``pipekit run --progress``),
so that all of them draw the same bar, need tqdm only when asked, and fail the same
teaching way without it. tqdm is the optional extra ``progress``
(``pip install 'pipekit-geo[progress]'``); ``tqdm.auto`` draws a widget in Jupyter and
text on stderr elsewhere.
"""

from __future__ import annotations

from types import TracebackType
from typing import IO, Any, Protocol

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar(Protocol):
    """What :func:`progress_bar` returns: a context manager that counts finished work."""

    def update(self, n: int = 1) -> Any:
        """Count ``n`` more units of work as finished."""
        ...

    def set_postfix(self, **values: Any) -> Any:
        """Show ``name=value`` pairs after the bar (e.g. the current loss)."""
        ...

    def __enter__(self) -> ProgressBar: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...


class _NoBar:
    """The bar of ``progress=False``: every call does nothing, nothing is imported."""

    def update(self, n: int = 1) -> None:
        return None

    def set_postfix(self, **values: Any) -> None:
        return None

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def progress_bar(
    total: int | None,
    desc: str,
    enabled: bool,
    *,
    initial: int = 0,
    unit: str = "it",
    file: IO[str] | None = None,
) -> ProgressBar:
    """A progress bar of ``total`` units named ``desc``, or a no-op one when not ``enabled``.

    Args:
        total: units of work (items, slices, steps); ``None`` when unknown.
        desc: the bar's label, also the owner named in the error without tqdm
            (``"ThreadMap"``, ``"fit"``).
        enabled: ``False`` returns a bar whose methods do nothing, and imports nothing.
        initial: units already done when the bar starts (a resumed run's skipped work).
        unit: what one unit is called (``"it"``, ``"slice"``, ``"step"``).
        file: where the text bar goes; default ``sys.stderr`` (stdout stays the output).

    Returns:
        A context manager with ``.update(n)`` and ``.set_postfix(**values)``; leaving it
        closes the bar, also when the work raised.

    Raises:
        ImportError: ``enabled`` and tqdm is not installed; the message names the extra.

    Example:
        >>> from pipekit.progress import progress_bar
        >>> with progress_bar(3, "demo", enabled=False) as bar:
        ...     for _ in range(3):
        ...         bar.update(1)

    Note:
        tqdm is imported here, when a bar is asked for, never at import time: a library
        that only logs must not pay for (or require) a terminal widget. The bar is drawn
        on stderr because the family's libraries never print results there: stdout stays
        clean for pipes (``pipekit run ... > summary.txt``).
    """
    if not enabled:
        return _NoBar()
    try:
        import tqdm  # noqa: F401 -- a missing (or blocked) tqdm fails here, by name
        from tqdm.auto import tqdm as auto_tqdm
    except ImportError as exc:
        raise ImportError(
            f"{desc}: drawing a progress bar (progress=True) needs tqdm, which is not "
            "installed. Install the extra: pip install 'pipekit-geo[progress]' (or "
            "pip install tqdm), or leave progress off."
        ) from exc
    return auto_tqdm(total=total, desc=desc, initial=initial, unit=unit, file=file)
