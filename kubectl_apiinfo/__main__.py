"""python -m kubectl_apiinfo: the kubectl-apiinfo executable."""

from kubectl_apiinfo.cli.main import main

main()
