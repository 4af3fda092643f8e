from kubectl_apiinfo.cli import main

main()
