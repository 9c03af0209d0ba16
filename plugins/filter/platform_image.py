# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter normaldance.platform.platform_image (documented in platform_image.yml)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.module_utils.images import ImageError, image_reference
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import plain


def platform_image(name, registry=None, digests=None):
    """Return the image reference of ``name`` for the site's registry."""
    try:
        return image_reference(plain(name), plain(registry) or None, plain(digests) or None)
    except ImageError as exc:
        raise AnsibleFilterError("platform_image: %s" % exc) from exc


class FilterModule:
    """The platform image filter."""

    def filters(self):
        return {"platform_image": platform_image}
