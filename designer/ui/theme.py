"""Colours of the window and the canvas, light or dark after the system.

One colour per block category, the same in the palette, on the cards and in
the icons, so a person learns "blue is convolution" once. Canvas items read
`current()` when they paint, so switching the theme needs only a repaint.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

CATEGORY_COLORS = {
    "Input": "#64748B",          # slate
    "Convolution": "#2563EB",    # blue
    "Pooling": "#0891B2",        # cyan
    "Dense": "#7C3AED",          # violet
    "Activation": "#CA8A04",     # gold
    "Normalization": "#16A34A",  # green
    "Regularization": "#78716C",  # stone
    "Merge": "#EA580C",          # orange
    "Composite": "#4F46E5",      # indigo
    "Generative": "#C026D3",     # fuchsia
}
FALLBACK_CATEGORY_COLOR = "#64748B"


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_CATEGORY_COLOR))


@dataclass(frozen=True)
class Theme:
    dark: bool
    window: str
    panel: str
    text: str
    muted: str
    canvas: str
    grid: str
    card: str
    card_border: str
    edge: str
    edge_label_bg: str
    accent: str
    ok: str
    error: str
    error_tint: str
    warning: str
    hatch: str

    def color(self, name: str, alpha: float = 1.0) -> QColor:
        c = QColor(getattr(self, name))
        c.setAlphaF(alpha)
        return c


LIGHT = Theme(
    dark=False, window="#F4F5F7", panel="#FFFFFF", text="#1F2328", muted="#6B7280",
    canvas="#EEF0F3", grid="#CBD1D9", card="#FFFFFF", card_border="#D0D5DD",
    edge="#8A94A3", edge_label_bg="#FFFFFF", accent="#2F6FEB", ok="#16A34A",
    error="#DC2626", error_tint="#FEF2F2", warning="#D97706", hatch="#94A3B8")

DARK = Theme(
    dark=True, window="#1E2024", panel="#26292E", text="#E6E8EB", muted="#9AA3AE",
    canvas="#191B1F", grid="#30343A", card="#2A2E34", card_border="#3A3F47",
    edge="#7B8593", edge_label_bg="#2A2E34", accent="#5B9BFF", ok="#4ADE80",
    error="#F87171", error_tint="#3B2225", warning="#FBBF24", hatch="#5B6370")

_current: Theme = LIGHT


def current() -> Theme:
    return _current


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window, QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.panel, QPalette.ColorRole.AlternateBase: t.window,
        QPalette.ColorRole.Text: t.text, QPalette.ColorRole.Button: t.panel,
        QPalette.ColorRole.ButtonText: t.text, QPalette.ColorRole.ToolTipBase: t.panel,
        QPalette.ColorRole.ToolTipText: t.text, QPalette.ColorRole.Highlight: t.accent,
        QPalette.ColorRole.HighlightedText: "#FFFFFF", QPalette.ColorRole.Link: t.accent,
        QPalette.ColorRole.PlaceholderText: t.muted, QPalette.ColorRole.Mid: t.card_border,
        QPalette.ColorRole.Midlight: t.card_border, QPalette.ColorRole.Light: t.panel,
        QPalette.ColorRole.Dark: t.muted, QPalette.ColorRole.Shadow: "#000000",
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.muted))
    return p


def _style_sheet(t: Theme) -> str:
    # Only what Fusion draws heavily by default: dock titles, the status bar, menus.
    return f"""
QMainWindow::separator {{ background: {t.window}; width: 4px; height: 4px; }}
QDockWidget {{ font-weight: 600; }}
QDockWidget::title {{ background: {t.window}; padding: 6px 8px; border-bottom: 1px solid {t.card_border}; }}
QStatusBar {{ background: {t.window}; border-top: 1px solid {t.card_border}; }}
QStatusBar::item {{ border: none; }}
QToolTip {{ background: {t.panel}; color: {t.text}; border: 1px solid {t.card_border}; padding: 4px 6px; }}
QMenu {{ background: {t.panel}; border: 1px solid {t.card_border}; padding: 4px 0; }}
QMenu::item {{ padding: 5px 28px 5px 22px; }}
QMenu::item:selected {{ background: {t.accent}; color: #FFFFFF; }}
QMenu::separator {{ height: 1px; background: {t.card_border}; margin: 4px 8px; }}
QLineEdit {{ border: 1px solid {t.card_border}; border-radius: 5px; padding: 4px 6px; background: {t.panel}; }}
QLineEdit:focus {{ border: 1px solid {t.accent}; }}
"""


def apply(app, dark: bool | None = None) -> Theme:
    """Fusion with our palette for the system's scheme (or the one asked for)."""
    global _current
    _current = DARK if (system_prefers_dark() if dark is None else dark) else LIGHT
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    app.setStyleSheet(_style_sheet(_current))
    return _current
