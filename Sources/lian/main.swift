import LianCLI

LianCommand.main()
