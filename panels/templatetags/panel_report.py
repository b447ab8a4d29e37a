"""The report section's data and charts, for panels/templates/panels/_report.html:

    {% load panel_report %}
    {% panel_report panel as report %}     panel_report_data of a panel read by panel_detail
    {% report_charts report as charts %}   charts.gauge, .matrix, .stances, .delphi (SVG)
"""

from django import template
from django.utils.safestring import mark_safe

from config.charts import report_charts as draw_report_charts
from panels.selectors import panel_report_data

register = template.Library()


@register.simple_tag
def panel_report(panel):
    return panel_report_data(panel=panel)


@register.simple_tag
def report_charts(report):
    # Safe only because config/charts.py escapes every label it draws (names come from
    # the catalog and from users); nothing else is marked safe here.
    return {name: mark_safe(svg) for name, svg in draw_report_charts(report).items()}
