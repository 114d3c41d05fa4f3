from bot.faces.cli import main

main()
