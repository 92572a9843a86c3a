"""Characters no email part may carry."""

from __future__ import annotations

import re

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F)
# and the C1 controls: MRML refuses a document holding one ("unable to parse next
# template"), and no mail client shows them, so author text loses them here.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def drop_invalid_chars(text: str) -> str:
    """`text` without the control and non-characters that XML (and MJML) refuse."""
    return _INVALID_CHARS.sub("", text)
