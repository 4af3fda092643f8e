from kubectl_apiinfo.cli.main import main

main()
