from django.views.generic import TemplateView

from cooperatives.portal.access import CooperativePortalMixin


class PortalHomeView(CooperativePortalMixin, TemplateView):
    template_name = "cooperatives/portal/home.html"
