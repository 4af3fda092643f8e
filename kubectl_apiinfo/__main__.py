from kubectl_apiinfo.entry import main

main()
