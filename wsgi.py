from fieldsales import create_app

app = create_app()
