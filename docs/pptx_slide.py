"""The README's PowerPoint screenshot: a .pptx slide holding a GIF the page exported (Export -> Animated GIF),
written with python-pptx, then rendered to PNG by LibreOffice Impress (PowerPoint itself does not run here).

    pip install python-pptx && apt-get install libreoffice-impress
    python docs/pptx_slide.py gatescope.gif && soffice --headless --convert-to png gatescope-slide.pptx

A tool for the documentation only: gatescope does not depend on python-pptx.
"""

import sys

from pptx import Presentation
from pptx.util import Inches, Pt

gif = sys.argv[1] if len(sys.argv) > 1 else "gatescope.gif"
deck = Presentation()
deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)  # 16:9
slide = deck.slides.add_slide(deck.slide_layouts[5])  # a title and nothing else
slide.shapes.title.text = "Up to the “?”, the LSTM's cell state holds the first letter"
slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(30)
width = Inches(10.2)
slide.shapes.add_picture(gif, int((deck.slide_width - width) / 2), Inches(1.55), width=width)
deck.save("gatescope-slide.pptx")
