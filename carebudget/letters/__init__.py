"""Care Act 2014 s13(2), s13(5), s24(2), s26 and s27: the letters each decision produces.

`content` turns a case (as its workflow holds it) into what a letter says, figure by figure from
the decision records; `render` fills the council's Jinja2 templates (rules/councils/<code>/letters,
over the national defaults in rules/england/letters) and prints the PDF with WeasyPrint.
"""

from carebudget.letters.content import KINDS, LetterContent, letter_content
from carebudget.letters.render import RenderedLetter, render_letter

__all__ = ["KINDS", "LetterContent", "RenderedLetter", "letter_content", "render_letter"]
