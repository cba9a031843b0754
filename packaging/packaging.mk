# Debian packaging targets, included from the top Makefile.
#   make deb            build/sockd_<version>_<arch>.deb and sockd-dev, from
#                       "git archive $(DEB_REF)" (HEAD: commit first)
#   make package-check  build, lint, install, probe, purge (as root)
#   make nspawn-check   boot the .deb under a real systemd (as root)
# README.md ("Install from the .deb") says how to install and use the
# packages; the header comments of package-check.sh and nspawn-check.sh
# list what each check does.

# Keep the including Makefile's default goal.
pkg_saved_goal	:= $(.DEFAULT_GOAL)

B		?= build

DEB_REF		?= HEAD
DEB_VERSION	 = $(shell dpkg-parsechangelog -l packaging/debian/changelog \
		   -S Version)
DEB_ARCH	 = $(shell dpkg --print-architecture)
DEB_STAGE	 = $(B)/sockd-$(DEB_VERSION)

# dpkg-buildpackage writes the packages next to the tree it builds: the
# staging tree is build/sockd-<version>, so they land in build/, with the
# build log.  The tree is removed afterwards, failed or not, so that no .d
# file of its own build is picked up by the top Makefile's -include.
# MAKEFLAGS is dropped so that dh picks its own parallelism;
# "make deb DEB_BUILD_OPTIONS=nocheck" skips "make check".
# The build dependencies are installed first, as "make run" does (through
# sudo when not root), so that dpkg-buildpackage finds them all.
deb:
	@sh .ci/install-deps deb || { echo "make deb: cannot install the" \
	    "build dependencies: run sh .ci/install-deps deb as root" >&2; \
	    exit 1; }
	@git rev-parse --verify -q $(DEB_REF) >/dev/null || { echo "make deb:" \
	    "no commit $(DEB_REF) to export" >&2; exit 1; }
	rm -rf $(DEB_STAGE)
	rm -f $(B)/sockd_$(DEB_VERSION)_* $(B)/sockd-dev_$(DEB_VERSION)_* \
	    $(B)/sockd-dbgsym_$(DEB_VERSION)_*
	mkdir -p $(DEB_STAGE)
	git archive --format=tar $(DEB_REF) | tar -x -C $(DEB_STAGE)
	@test -d $(DEB_STAGE)/packaging/debian || { rm -rf $(DEB_STAGE); \
	    echo "make deb: $(DEB_REF) has no packaging/debian" >&2; exit 1; }
	rm -rf $(DEB_STAGE)/debian
	cp -a $(DEB_STAGE)/packaging/debian $(DEB_STAGE)/debian
	cd $(DEB_STAGE) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b \
	    > ../sockd_$(DEB_VERSION)_$(DEB_ARCH).build.log 2>&1 || \
	    { tail -40 ../sockd_$(DEB_VERSION)_$(DEB_ARCH).build.log; \
	    rm -rf ../sockd-$(DEB_VERSION); exit 1; }
	rm -rf $(DEB_STAGE)
	@ls -1 $(B)/sockd*_$(DEB_VERSION)_*.deb

package-check:
	sh packaging/package-check.sh

nspawn-check:
	sh packaging/nspawn-check.sh

.PHONY: deb package-check nspawn-check

.DEFAULT_GOAL	:= $(pkg_saved_goal)
