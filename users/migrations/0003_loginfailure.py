from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0002_roles'),
    ]

    operations = [
        migrations.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150)),
                ('ip', models.GenericIPAddressField()),
                ('at', models.DateTimeField(db_index=True)),
            ],
            options={
                'ordering': ['-at'],
                'indexes': [models.Index(fields=['username', 'ip', 'at'], name='loginfailure_user_ip_at'), models.Index(fields=['ip', 'at'], name='loginfailure_ip_at')],
            },
        ),
    ]
